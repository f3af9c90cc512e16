// Document names and the files a document owns in the data directory:
//
//   NAME.txt        the current plain text, for people (atomically replaced)
//   NAME.log        append-only log of Yjs updates since the snapshot (record-codec.ts framing)
//   NAME.snapshot   Y.encodeStateAsUpdate of the document at the last compaction (one record)
//   NAME.meta       JSON: SHA-256 of the text file contents the store itself wrote, so a restart
//                   tells a stale copy (crash before the debounced write) from a hand edit, and
//                   for each, where the document's state at that write is found again (the base
//                   of a three-way merge of an outside edit; see text-file.ts)
//   NAME.base       Y.encodeStateAsUpdate of the document at the last write of NAME.txt before
//                   the last compaction (which empties the log that state was found in)
//   .NAME.*.tmp     temporaries of the atomic replacements
//
// No suffix is a suffix of another and names cannot start with '.', so two documents' files
// never collide, and the lock file (.collab.lock) and temporaries never look like a document.

import { join } from 'node:path';
import { InvalidDocumentNameError } from './errors';

const NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** Throws InvalidDocumentNameError unless `name` is 1-64 chars of A-Za-z0-9._- not starting with '.'. */
export function validateDocumentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new InvalidDocumentNameError(String(name));
}

/** The paths of document `name`'s files in `dataDir`. */
export interface DocumentPaths {
  text: string;
  log: string;
  snapshot: string;
  meta: string;
  base: string;
}

/** Paths of a validated document name's files. */
export function documentPaths(dataDir: string, name: string): DocumentPaths {
  validateDocumentName(name);
  return {
    text: join(dataDir, `${name}.txt`),
    log: join(dataDir, `${name}.log`),
    snapshot: join(dataDir, `${name}.snapshot`),
    meta: join(dataDir, `${name}.meta`),
    base: join(dataDir, `${name}.base`),
  };
}
