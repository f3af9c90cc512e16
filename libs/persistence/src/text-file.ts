// NAME.txt, the plain-text copy of a document, and NAME.meta, the checksums of the texts the
// store itself wrote there. Before each text write the meta lists both the text now on disk and
// the one about to be written, so whatever a crash leaves in NAME.txt is recognised as ours; a
// text whose checksum is not listed was written by someone else (a person, a tool, an old copy).
//
// For each text it lists, the meta also says where the document as it was at that write can be
// found again (a BaseRef): the base that an outside edit of that text is merged against, three
// ways, after a restart. Format 2 (format 1 had only the checksums, and is still read).
//
// NAME.txt is only ever replaced over a text this knows: before the rename it checks that the
// file there is still the one it last saw (same inode, size and mtime, still linked), so an edit
// saved meanwhile is merged first instead of overwritten. What is left is the few microseconds
// between that check and the rename; an in-place write landing there goes into the file being
// replaced, which is still open here, and is handed back (`raced`) to be merged.

import { createHash } from 'node:crypto';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { replaceFileAtomically } from './atomic-replace';
import { toStorageError } from './errors';
import type { FsOps } from './fs-ops';

/** SHA-256 (hex) of a text file's bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the document as it was at a write of NAME.txt is found again on disk. */
export type BaseRef =
  /** NAME.snapshot whose payload has this SHA-256 (null: there was none), then NAME.log's records up to byte `logBytes`. */
  | { readonly snapshot: string | null; readonly logBytes: number }
  /** NAME.base holding the document's whole state (as earlier versions wrote it), whose payload has this SHA-256. */
  | { readonly baseFile: string }
  /** NAME.base holding the text and a snapshot of the document (see base-tracker.ts), whose payload has this SHA-256. */
  | { readonly baseSnapshot: string };

/** A file's contents as stat tells them apart: a write changes the size or the mtime, a replacement the inode. */
export interface FileStamp {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/** Whether two stamps are of the same contents. */
export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  if (a === null || b === null) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

function stampOf(s: { ino: bigint; size: bigint; mtimeNs: bigint }): FileStamp {
  return { ino: s.ino, size: s.size, mtimeNs: s.mtimeNs };
}

/** The stamp of `path`, or null when it does not exist. */
export async function stampFile(path: string): Promise<FileStamp | null> {
  try {
    return stampOf(await stat(path, { bigint: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'stat', path);
  }
}

/** A file's bytes and the stamp they were read under; null when it does not exist. */
export interface FileRead {
  readonly bytes: Buffer;
  readonly stamp: FileStamp;
  /** Whether the stamp was the same before and after the read (no write landed during it). */
  readonly steady: boolean;
}

/** Reads `path` through one descriptor: its stamp, its bytes, its stamp again. */
export async function readFileWithStamp(path: string): Promise<FileRead | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'open', path);
  }
  try {
    const before = stampOf(await handle.stat({ bigint: true }));
    const bytes = await handle.readFile();
    const after = stampOf(await handle.stat({ bigint: true }));
    return { bytes, stamp: after, steady: sameStamp(before, after) && BigInt(bytes.length) === after.size };
  } catch (err) {
    throw toStorageError(err, 'read', path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The texts the store wrote (or merged), by SHA-256, each with where its base is when known. */
export type OwnTexts = Map<string, BaseRef | null>;

/** What is on disk: the text file (null when missing) and what NAME.meta lists. */
export interface TextFileContents {
  read: FileRead | null;
  /** The stamp of a text file too large to be a document, left unread (read is null then). */
  tooLarge: FileStamp | null;
  sha256: string | null;
  own: OwnTexts;
  /** Whether NAME.meta existed (the store wrote NAME.txt before). */
  metaExisted: boolean;
}

function isBaseRef(value: unknown): value is BaseRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.baseFile === 'string' || typeof v.baseSnapshot === 'string') return true;
  return (v.snapshot === null || typeof v.snapshot === 'string') && typeof v.logBytes === 'number' && v.logBytes >= 0;
}

/** Reads NAME.meta's list; an unreadable meta counts as none (every text then looks foreign). */
async function readMeta(metaPath: string): Promise<{ own: OwnTexts; existed: boolean }> {
  let meta: Buffer;
  try {
    meta = await readFile(metaPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { own: new Map(), existed: false };
    throw toStorageError(err, 'read', metaPath);
  }
  const own: OwnTexts = new Map();
  try {
    const parsed = JSON.parse(meta.toString('utf8')) as { textSha256?: unknown; bases?: unknown };
    const bases = (typeof parsed.bases === 'object' && parsed.bases !== null ? parsed.bases : {}) as Record<string, unknown>;
    if (Array.isArray(parsed.textSha256)) {
      for (const sha of parsed.textSha256) {
        if (typeof sha !== 'string') continue;
        const ref = Object.prototype.hasOwnProperty.call(bases, sha) ? bases[sha] : null;
        own.set(sha, isBaseRef(ref) ? ref : null);
      }
    }
  } catch {
    own.clear();
  }
  return { own, existed: true };
}

/** Reads NAME.txt (unless it is larger than `maxBytes`) and NAME.meta. */
export async function readTextFile(textPath: string, metaPath: string, maxBytes = Infinity): Promise<TextFileContents> {
  const meta = await readMeta(metaPath);
  const stamp = await stampFile(textPath);
  if (stamp && stamp.size > BigInt(Math.min(maxBytes, Number.MAX_SAFE_INTEGER))) {
    return { read: null, tooLarge: stamp, sha256: null, own: meta.own, metaExisted: meta.existed };
  }
  const read = await readFileWithStamp(textPath);
  return { read, tooLarge: null, sha256: read ? sha256Hex(read.bytes) : null, own: meta.own, metaExisted: meta.existed };
}

/** What a write did. */
export type TextWriteOutcome =
  /** NAME.txt already held this text, as the store's own. */
  | 'unchanged'
  /** NAME.txt was replaced. */
  | 'written'
  /** NAME.txt already held these bytes (an outside text, now merged): only the meta was written, making them the store's own. */
  | 'adopted'
  /** NAME.txt is not what this last saw: nothing was written; look at it (and merge it) first. */
  | 'changed-outside';

/** What is in NAME.txt as this last saw or wrote it. */
interface OnDisk {
  /** SHA-256 of its bytes; null when they were not read (too large to merge). */
  readonly sha: string | null;
  readonly stamp: FileStamp;
}

/** Writes NAME.txt atomically over the text it knows is there, recording its checksum and base in NAME.meta first. */
export class TextFile {
  private own: OwnTexts;
  private disk: OnDisk | null;

  constructor(
    private readonly fs: FsOps,
    readonly textPath: string,
    readonly metaPath: string,
    /** What NAME.meta lists now. */
    own: OwnTexts,
    /** What NAME.txt holds now (null: missing). */
    disk: OnDisk | null,
  ) {
    this.own = new Map(own);
    this.disk = disk;
  }

  /** Whether `sha` is of a text the store wrote (or merged). */
  isOwn(sha: string): boolean {
    return this.own.has(sha);
  }

  /** What NAME.txt held when this last looked; null when missing. */
  get onDisk(): OnDisk | null {
    return this.disk;
  }

  /** Whether the text now in NAME.txt is the store's own. */
  get diskIsOwn(): boolean {
    return this.disk !== null && this.disk.sha !== null && this.own.has(this.disk.sha);
  }

  /** Notes what was found in NAME.txt (null: it is missing). */
  noteDisk(found: OnDisk | null): void {
    this.disk = found;
  }

  /**
   * Makes NAME.txt hold `text`, the document as `ref` finds it again: replaces the file when it
   * holds something else, only writes the meta when it already holds these bytes. Never writes
   * over a file other than the one this last saw ('changed-outside'). `raced` holds what an
   * in-place write put into the replaced file between the check and the rename.
   */
  async write(text: string, ref: BaseRef): Promise<{ outcome: TextWriteOutcome; raced?: Buffer }> {
    const bytes = Buffer.from(text, 'utf8');
    const sha = sha256Hex(bytes);
    const known = this.disk;
    if (known && known.sha === sha) {
      if (this.own.size === 1 && this.own.has(sha)) return { outcome: 'unchanged' };
      if (!sameStamp(await stampFile(this.textPath), known.stamp)) return { outcome: 'changed-outside' };
      await this.writeMeta(new Map([[sha, ref]]));
      return { outcome: 'adopted' };
    }
    let old: FileHandle | null = null;
    try {
      old = await open(this.textPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw toStorageError(err, 'open', this.textPath);
    }
    try {
      const oldStamp = old ? stampOf(await old.stat({ bigint: true })) : null;
      if (!sameStamp(oldStamp, known?.stamp ?? null)) return { outcome: 'changed-outside' };
      // The text there now stays listed until the rename is durable: ours with its base, or an
      // outside text already merged (its changes are in the log), so a crash never re-merges it.
      const listed: OwnTexts = new Map();
      if (known?.sha) listed.set(known.sha, this.own.get(known.sha) ?? null);
      listed.set(sha, ref);
      await this.writeMeta(listed);
      let written: FileStamp | null = null;
      const replaced = await replaceFileAtomically(this.fs, this.textPath, bytes, async (temp) => {
        written = await stampFile(temp);
        if (!old) return (await stampFile(this.textPath)) === null;
        const now = await old.stat({ bigint: true });
        return now.nlink > 0n && sameStamp(stampOf(now), oldStamp);
      });
      if (!replaced || written === null) return { outcome: 'changed-outside' };
      this.disk = { sha, stamp: written };
      this.own = new Map([[sha, ref]]);
      if (old && !sameStamp(stampOf(await old.stat({ bigint: true })), oldStamp)) {
        return { outcome: 'written', raced: await old.readFile() };
      }
      return { outcome: 'written' };
    } finally {
      await old?.close().catch(() => undefined);
    }
  }

  /**
   * Points the text of checksum `sha` at a new base, the others at none: a compaction is about
   * to empty the log their bases were found in.
   */
  async rebase(sha: string | null, ref: BaseRef | null): Promise<void> {
    const listed: OwnTexts = new Map();
    for (const own of this.own.keys()) listed.set(own, own === sha ? ref : null);
    await this.writeMeta(listed);
  }

  private async writeMeta(listed: OwnTexts): Promise<void> {
    const bases: Record<string, BaseRef> = {};
    for (const [sha, ref] of listed) if (ref) bases[sha] = ref;
    const meta = Buffer.from(`${JSON.stringify({ format: 2, textSha256: [...listed.keys()], bases })}\n`, 'utf8');
    await replaceFileAtomically(this.fs, this.metaPath, meta);
    this.own = listed;
  }
}
