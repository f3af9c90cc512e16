// Replace a whole file so that a reader, or a restart after a crash or power loss, sees either
// the old content or the new one, never a mix: write a temporary file, fsync it, rename it over
// the target, fsync the directory so the rename itself is durable.

import { basename, dirname, join } from 'node:path';
import { toStorageError } from './errors';
import { writeFully, type FsOps } from './fs-ops';

/** The temporary file used while replacing `path`; dot-prefixed so it can never be a document's file. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/**
 * Atomically replaces `path` with `data`; throws a StorageError subclass naming the file.
 * `beforeRename`, called once the temporary file is durable, may call the replacement off
 * (resolving false): the temporary file is removed, `path` left as it is, and false returned.
 */
export async function replaceFileAtomically(
  fs: FsOps,
  path: string,
  data: Uint8Array,
  beforeRename?: (tempPath: string) => Promise<boolean>,
): Promise<boolean> {
  const temp = tempPathFor(path);
  let step = 'create';
  try {
    const file = await fs.open(temp, 'w', 0o644);
    try {
      step = 'write';
      await writeFully(file, data, 0);
      step = 'fsync';
      await file.sync();
    } finally {
      await file.close().catch(() => undefined);
    }
    step = 'check before renaming';
    if (beforeRename && !(await beforeRename(temp))) {
      await fs.unlink(temp).catch(() => undefined);
      return false;
    }
    step = 'rename into place';
    await fs.rename(temp, path);
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw toStorageError(err, step === 'rename into place' ? step : `${step} the temporary file for`, path);
  }
  try {
    await fs.syncDir(dirname(path));
  } catch (err) {
    throw toStorageError(err, 'fsync the directory of', path);
  }
  return true;
}
