import * as Y from 'yjs';
import { shorten } from '@collab/logging';

/**
 * What an update does to the text, for the `[UPDATE] Document updated by A: text` line: the
 * text it inserts (shortened), or how many characters it deletes. Read from the update itself
 * (its size), never from a text event, whose delta costs time in the document's length.
 */
export function summariseUpdate(update: Uint8Array, maxChars = 80): string {
  const { structs, ds } = Y.decodeUpdate(update);
  let inserted = '';
  for (const struct of structs) {
    if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) inserted += struct.content.str;
  }
  if (inserted) return shorten(inserted.replace(/\r?\n$/, ''), maxChars);
  let deleted = 0;
  for (const items of ds.clients.values()) for (const item of items) deleted += item.len;
  return deleted === 1 ? '(deleted 1 character)' : `(deleted ${deleted} characters)`;
}
