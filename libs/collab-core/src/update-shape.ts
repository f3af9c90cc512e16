// What a client's update may do: insert text into and delete from the document's Y.Text, and
// nothing else. Other shared types, maps, embeds, formats, binary or JSON values would be
// stored, relayed and sent to every joiner without counting against the document's size limit
// (and a JSON value nested deep enough makes Yjs's own encoder overflow the stack).

import * as Y from 'yjs';
import { UpdateRefusedError } from './errors';

/** What a decoded update inserts and deletes, for the size limit and the log. */
export interface UpdateShape {
  /** The text it inserts, in struct order. */
  readonly inserted: string;
  /** Characters (and other items) it deletes. */
  readonly deleted: number;
}

/** An update read once: its structs and delete set (for the dependency check) and its shape. */
export interface TextUpdate extends UpdateShape {
  readonly structs: ReadonlyArray<Y.Item | Y.GC | Y.Skip>;
  readonly ds: ReturnType<typeof Y.decodeUpdate>['ds'];
}

/**
 * Reads `update` and checks it only edits the Y.Text named `textName`; throws UpdateRefusedError
 * ('malformed' when Yjs cannot read it, 'not-text' otherwise).
 */
export function checkTextUpdate(update: Uint8Array, textName: string): TextUpdate {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch (error) {
    throw new UpdateRefusedError('malformed', 'The Yjs update could not be read.', { cause: error });
  }
  let inserted = '';
  for (const struct of decoded.structs) {
    // Yjs has no empty structs; one would overlap its neighbour's ids.
    if (struct.length < 1) throw new UpdateRefusedError('malformed', 'The Yjs update holds an empty struct.');
    if (!(struct instanceof Y.Item)) continue; // GC and Skip carry no content
    const { content } = struct;
    if (content instanceof Y.ContentString) inserted += content.str;
    else if (!(content instanceof Y.ContentDeleted)) throw notText(`it holds ${contentName(content)} content`);
    // An item placed by its neighbours (origin or right origin) lives where they live; one
    // placed by its parent must name the text itself, not another type or a map key.
    const parent: unknown = struct.parent;
    if (parent !== null && parent !== textName)
      throw notText(typeof parent === 'string' ? `it edits the shared type "${parent}"` : 'it edits a nested type');
    if (struct.parentSub !== null) throw notText('it sets a key');
  }
  let deleted = 0;
  for (const ranges of decoded.ds.clients.values()) for (const range of ranges) deleted += range.len;
  return { inserted, deleted, structs: decoded.structs, ds: decoded.ds };
}

function notText(why: string): UpdateRefusedError {
  return new UpdateRefusedError(
    'not-text',
    `The update changes more than the document's text (${why}); only text may be inserted and deleted.`,
  );
}

// Yjs's own numbers for its content kinds (AbstractContent.getRef()).
const CONTENT_NAMES: Record<number, string> = {
  1: 'deleted',
  2: 'JSON',
  3: 'binary',
  4: 'text',
  5: 'embed',
  6: 'format',
  7: 'shared type',
  8: 'value',
  9: 'subdocument',
};

function contentName(content: Y.Item['content']): string {
  return CONTENT_NAMES[content.getRef()] ?? 'unknown';
}
