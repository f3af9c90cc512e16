// Which Yjs items an update carries, read cheaply: the bench reads every relayed update in every
// client, so the common case (one client's one Item of one string, what a one-keystroke edit
// produces) is read by hand from the update's v1 encoding; anything else goes through
// Y.decodeUpdate.
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';

/** Called once per run of consecutive clocks of one client: items client:clock .. client:clock+length-1. */
export type ItemRangeListener = (client: number, clock: number, length: number) => void;

const CONTENT_STRING = 4;

function skipId(decoder: decoding.Decoder): void {
  decoding.readVarUint(decoder);
  decoding.readVarUint(decoder);
}

export function forEachItemRange(update: Uint8Array, listener: ItemRangeListener): void {
  const decoder = decoding.createDecoder(update);
  if (decoding.readVarUint(decoder) === 1 && decoding.readVarUint(decoder) === 1) {
    const client = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const info = decoding.readUint8(decoder);
    if ((info & 0x1f) === CONTENT_STRING) {
      if (info & 0x80) skipId(decoder); // origin
      if (info & 0x40) skipId(decoder); // right origin
      if ((info & 0xc0) === 0) {
        // No origin to copy the parent from: the parent is written out.
        if (decoding.readVarUint(decoder) === 1) decoding.readVarString(decoder);
        else skipId(decoder);
        if (info & 0x20) decoding.readVarString(decoder); // parentSub
      }
      listener(client, clock, decoding.readVarString(decoder).length);
      return;
    }
  }
  for (const struct of Y.decodeUpdate(update).structs) {
    if (struct instanceof Y.Item || struct instanceof Y.GC) listener(struct.id.client, struct.id.clock, struct.length);
  }
}
