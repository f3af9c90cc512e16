// Whether Yjs will apply an update whole, told from its decoded form and the document's state
// vector, without applying it anywhere: every struct continues (or repeats) what the document
// has from its author, every struct it builds on (origin, right origin) is in the document or,
// for its author's own earlier structs, in the update itself, and every deletion names items
// that exist by then. Such an update has nothing Yjs would keep aside waiting for other changes.
// Typing (one item after text the document has) always qualifies; what does not (a reconnecting
// client's step 2 crossing several authors, say) is tried on a copy of the document first.

import * as Y from 'yjs';
import type { TextUpdate } from './update-shape';

/** Whether `update` applies cleanly to a document whose store is `store` (see above). */
export function appliesCleanly(update: TextUpdate, store: Y.Doc['store']): boolean {
  const state = (client: number) => Y.getState(store, client);
  /** Where each author's structs in the update end (the state the document will have). */
  const ends = new Map<number, number>();
  for (const struct of update.structs) {
    if (struct instanceof Y.Skip) return false; // a gap: part of the update waits for something
    const { client, clock } = struct.id;
    const end = ends.get(client);
    if (end === undefined) {
      if (clock > state(client)) return false; // the author's earlier changes are missing
    } else if (clock !== end) {
      return false; // not contiguous (decodeUpdate does not produce this; a forged update could)
    }
    ends.set(client, clock + struct.length);
    if (struct instanceof Y.Item) {
      if (!builtOn(struct.origin, client, clock, state)) return false;
      if (!builtOn(struct.rightOrigin, client, clock, state)) return false;
    }
  }
  for (const [client, ranges] of update.ds.clients) {
    const known = Math.max(state(client), ends.get(client) ?? 0);
    for (const range of ranges) if (range.len < 1 || range.clock + range.len > known) return false;
  }
  return true;
}

/** Whether a reference of a struct (author `client`, at `clock`) is to something that exists. */
function builtOn(ref: Y.ID | null, client: number, clock: number, state: (client: number) => number): boolean {
  if (ref === null) return true;
  // The author's own earlier structs: in the document, or earlier in this update.
  if (ref.client === client) return ref.clock < clock;
  // Anyone else's: already in the document (references into the update itself could form cycles).
  return ref.clock < state(ref.client);
}
