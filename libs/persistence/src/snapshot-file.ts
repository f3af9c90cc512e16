// A document's snapshot: one framed record holding Y.encodeStateAsUpdate of the document,
// replaced atomically at each compaction. It is never appended to, so any damage is corruption.

import { readFile } from 'node:fs/promises';
import { replaceFileAtomically } from './atomic-replace';
import { CorruptFileError, toStorageError } from './errors';
import type { FsOps } from './fs-ops';
import { encodeRecord, scanRecords } from './record-codec';

/** The snapshot's Yjs update, or null when there is no snapshot file. */
export async function readSnapshot(path: string): Promise<Uint8Array | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'read', path);
  }
  const scan = scanRecords(bytes);
  if (scan.damage) throw new CorruptFileError(path, scan.damage.offset, scan.damage.reason, 'snapshot');
  if (scan.records.length !== 1) {
    throw new CorruptFileError(
      path,
      scan.records.length === 0 ? 0 : scan.records[0].length + 8,
      'a snapshot holds exactly one record',
      'snapshot',
    );
  }
  return scan.records[0];
}

/** Durably replaces the snapshot with `state`. */
export async function writeSnapshot(fs: FsOps, path: string, state: Uint8Array): Promise<void> {
  await replaceFileAtomically(fs, path, encodeRecord(state));
}
