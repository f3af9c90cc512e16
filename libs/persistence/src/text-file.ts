// NAME.txt, the plain-text copy of a document, and NAME.meta, the checksums of the texts the
// store itself wrote there. Before each text write the meta lists both the text now on disk and
// the one about to be written, so whatever a crash leaves in NAME.txt is recognised as ours; a
// text whose checksum is not listed was written by someone else (a hand edit, an old version).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { replaceFileAtomically } from './atomic-replace';
import { toStorageError } from './errors';
import type { FsOps } from './fs-ops';

/** SHA-256 (hex) of a text file's bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What is on disk: the text file (null when missing) and the checksums the store wrote. */
export interface TextFileContents {
  text: string | null;
  sha256: string | null;
  ownSha256: string[];
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'read', path);
  }
}

/** Reads NAME.txt and NAME.meta; an unreadable meta counts as none (every text then looks foreign). */
export async function readTextFile(textPath: string, metaPath: string): Promise<TextFileContents> {
  const [bytes, meta] = await Promise.all([readOptional(textPath), readOptional(metaPath)]);
  let ownSha256: string[] = [];
  if (meta) {
    try {
      const parsed = JSON.parse(meta.toString('utf8')) as { textSha256?: unknown };
      if (Array.isArray(parsed.textSha256)) ownSha256 = parsed.textSha256.filter((h): h is string => typeof h === 'string');
    } catch {
      ownSha256 = [];
    }
  }
  return {
    text: bytes ? bytes.toString('utf8') : null,
    sha256: bytes ? sha256Hex(bytes) : null,
    ownSha256,
  };
}

/** Writes NAME.txt atomically, recording its checksum in NAME.meta first. */
export class TextFile {
  // Checksums NAME.txt may hold now: one after a clean write, two after a write that failed
  // part way (the rename may or may not have happened).
  private onDisk: string[];

  constructor(
    private readonly fs: FsOps,
    readonly textPath: string,
    readonly metaPath: string,
    /** Checksum of the text now in NAME.txt, when the store wrote it. */
    onDisk: string | null,
  ) {
    this.onDisk = onDisk ? [onDisk] : [];
  }

  /** Replaces NAME.txt with `text` unless it already holds exactly that. */
  async write(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const sha = sha256Hex(bytes);
    if (this.onDisk.length === 1 && this.onDisk[0] === sha) return;
    const own = [...this.onDisk.filter((h) => h !== sha), sha];
    const meta = Buffer.from(`${JSON.stringify({ format: 1, textSha256: own })}\n`, 'utf8');
    await replaceFileAtomically(this.fs, this.metaPath, meta);
    this.onDisk = own;
    await replaceFileAtomically(this.fs, this.textPath, bytes);
    this.onDisk = [sha];
  }
}
