import * as Y from 'yjs';
import { shorten } from '@collab/logging';

/**
 * What an update does to the text, for the `[UPDATE] Document updated by A: text` line: the
 * text it inserts (shortened), or how many characters it deletes. Read from the update itself
 * (its size), never from a text event, whose delta costs time in the document's length.
 */
export function summariseUpdate(update: Uint8Array, maxChars = 80): string {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    // Yjs applies some updates its own decodeUpdate cannot read back (a corrupt one, say).
    return `(an update of ${update.length} bytes that cannot be summarised)`;
  }
  const { structs, ds } = decoded;
  let inserted = '';
  for (const struct of structs) {
    if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) inserted += struct.content.str;
  }
  if (inserted) return shorten(inserted.replace(/\r?\n$/, ''), maxChars);
  let deleted = 0;
  for (const items of ds.clients.values()) for (const item of items) deleted += item.len;
  return deleted === 1 ? '(deleted 1 character)' : `(deleted ${deleted} characters)`;
}
