import type * as Y from 'yjs';
import { shorten } from '@collab/logging';

/**
 * What a change did to the text, for the `[UPDATE] Document updated by A: text` line: the
 * inserted text (shortened), or how many characters went when it only deleted.
 */
export function summariseTextEvent(event: Y.YTextEvent, maxChars = 80): string {
  let inserted = '';
  let deleted = 0;
  for (const op of event.delta) {
    if (typeof op.insert === 'string') inserted += op.insert;
    else if (typeof op.delete === 'number') deleted += op.delete;
  }
  if (inserted) return shorten(inserted, maxChars);
  return deleted === 1 ? '(deleted 1 character)' : `(deleted ${deleted} characters)`;
}
