// Cuts a Yjs update into updates of at most a given size, so that whatever the server has
// accepted it can also send: a document typed by one person is often one long item (Yjs merges
// consecutive typing), and its state can outgrow any frame. Applying the parts in any order
// gives exactly the state of the whole (Yjs keeps a part aside until what it builds on arrives).
//
// The parts are written by Yjs's own encoder and struct classes. A long text item is cut the
// way Yjs itself splits items (the right part's origin is the last character of the left part,
// both keep the right origin), never between the two halves of a surrogate pair.

import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { MessageTooLargeError } from './errors';

type Struct = Y.Item | Y.GC | Y.Skip;

interface DeleteRange {
  clock: number;
  len: number;
}

/** Bytes a part may spend on bookkeeping besides its structs (counts, client ids, clocks). */
const PART_OVERHEAD_BYTES = 64;
/** Bytes of one struct besides its content: info, two ids, parent. */
const STRUCT_OVERHEAD_BYTES = 48;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The bytes `struct` takes in an update, measured by encoding it (used for contents other than text). */
function encodedSize(struct: Struct): number {
  const encoder = new Y.UpdateEncoderV1();
  struct.write(encoder, 0);
  return encoding.length(encoder.restEncoder);
}

function sizeOf(struct: Struct): number {
  if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) {
    return Buffer.byteLength(struct.content.str, 'utf8') + STRUCT_OVERHEAD_BYTES;
  }
  if (struct instanceof Y.Item && !(struct.content instanceof Y.ContentDeleted)) return encodedSize(struct) + STRUCT_OVERHEAD_BYTES;
  return STRUCT_OVERHEAD_BYTES;
}

/** A text item cut into items of at most `budget` bytes, as Yjs would split it. */
function sliceText(item: Y.Item, content: Y.ContentString, budget: number): Y.Item[] {
  const { str } = content;
  // At most 3 UTF-8 bytes per UTF-16 unit: a slice of budget/3 units always fits.
  const unitsPerSlice = Math.max(2, Math.floor((budget - STRUCT_OVERHEAD_BYTES) / 3));
  const slices: Y.Item[] = [];
  for (let start = 0; start < str.length;) {
    let end = Math.min(str.length, start + unitsPerSlice);
    if (end < str.length && isHighSurrogate(str.charCodeAt(end - 1))) end--;
    const { client, clock } = item.id;
    const origin = start === 0 ? item.origin : Y.createID(client, clock + start - 1);
    slices.push(
      new Y.Item(
        Y.createID(client, clock + start),
        null,
        origin,
        null,
        item.rightOrigin,
        item.parent,
        item.parentSub,
        new Y.ContentString(str.slice(start, end)),
      ),
    );
    start = end;
  }
  return slices;
}

/** One update being assembled: structs per client (each run contiguous), then delete ranges per client. */
class Part {
  readonly structs = new Map<number, Struct[]>();
  readonly deletes = new Map<number, DeleteRange[]>();
  size = PART_OVERHEAD_BYTES;

  get empty(): boolean {
    return this.structs.size === 0 && this.deletes.size === 0;
  }

  addStruct(struct: Struct, size: number): void {
    const runs = this.structs.get(struct.id.client);
    if (runs) runs.push(struct);
    else this.structs.set(struct.id.client, [struct]);
    this.size += size;
  }

  addDelete(client: number, range: DeleteRange): void {
    const ranges = this.deletes.get(client);
    if (ranges) ranges.push(range);
    else this.deletes.set(client, [range]);
    // Two varUints of at most 8 bytes each (clocks stay below 2^53), plus the client's header once.
    this.size += ranges ? 16 : 32;
  }

  encode(): Uint8Array {
    const encoder = new Y.UpdateEncoderV1();
    const rest = encoder.restEncoder;
    encoding.writeVarUint(rest, this.structs.size);
    for (const [client, structs] of this.structs) {
      encoding.writeVarUint(rest, structs.length);
      encoder.writeClient(client);
      encoding.writeVarUint(rest, structs[0].id.clock);
      for (const struct of structs) struct.write(encoder, 0);
    }
    encoding.writeVarUint(rest, this.deletes.size);
    for (const [client, ranges] of this.deletes) {
      encoder.resetDsCurVal();
      encoding.writeVarUint(rest, client);
      encoding.writeVarUint(rest, ranges.length);
      for (const range of ranges) {
        encoder.writeDsClock(range.clock);
        encoder.writeDsLen(range.len);
      }
    }
    return encoder.toUint8Array();
  }
}

/** An update holding only the deletions of `ds` (a decoded update's delete set). */
export function encodeDeletions(ds: ReturnType<typeof Y.decodeUpdate>['ds']): Uint8Array {
  const part = new Part();
  for (const [client, ranges] of ds.clients) for (const range of ranges) part.addDelete(client, { clock: range.clock, len: range.len });
  return part.encode();
}

/**
 * `update` as one or more updates of at most `maxBytes` each (the update itself when it fits).
 * Throws MessageTooLargeError when a single item that cannot be cut (binary or JSON content,
 * which a text document does not hold) is larger than `maxBytes`.
 */
export function splitUpdate(update: Uint8Array, maxBytes: number): Uint8Array[] {
  if (update.byteLength <= maxBytes) return [update];
  const budget = maxBytes - PART_OVERHEAD_BYTES;
  const { structs, ds } = Y.decodeUpdate(update);
  const parts: Part[] = [];
  let part = new Part();
  const place = (struct: Struct, size: number) => {
    if (!part.empty && part.size + size > budget) {
      parts.push(part);
      part = new Part();
    }
    part.addStruct(struct, size);
  };
  for (const struct of structs) {
    const size = sizeOf(struct);
    if (size <= budget) {
      place(struct, size);
    } else if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) {
      for (const slice of sliceText(struct, struct.content, budget)) place(slice, sizeOf(slice));
    } else {
      throw new MessageTooLargeError(size, maxBytes);
    }
  }
  for (const [client, ranges] of ds.clients) {
    for (const range of ranges) {
      if (!part.empty && part.size + 32 > budget) {
        parts.push(part);
        part = new Part();
      }
      part.addDelete(client, { clock: range.clock, len: range.len });
    }
  }
  if (!part.empty || parts.length === 0) parts.push(part);
  return parts.map((p) => p.encode());
}
