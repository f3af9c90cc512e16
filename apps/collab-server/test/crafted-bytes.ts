// Crafted input for the robustness tests: awareness updates and Yjs updates written entry by
// entry (some cannot be made through the libraries' own encoders), and frame headers alone.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { MessageType, TEXT_NAME, encodeMessage } from '@collab/collab-protocol';

/** One entry of an awareness update: a client id, its clock, its state as JSON text ('null' removes it). */
export interface PresenceEntry {
  id: number;
  clock: number;
  json: string;
}

/** An awareness update (y-protocols' layout) holding exactly these entries. */
export function presenceUpdate(entries: readonly PresenceEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.id);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.json);
  }
  return encoding.toUint8Array(encoder);
}

/** The entries of an awareness update. */
export function decodePresence(update: Uint8Array): PresenceEntry[] {
  const decoder = decoding.createDecoder(update);
  const entries: PresenceEntry[] = [];
  for (let n = decoding.readVarUint(decoder); n > 0; n--) {
    entries.push({ id: decoding.readVarUint(decoder), clock: decoding.readVarUint(decoder), json: decoding.readVarString(decoder) });
  }
  return entries;
}

/** An AWARENESS message payload for these entries. */
export function presenceMessage(entries: readonly PresenceEntry[]): Uint8Array {
  return encodeMessage({ type: MessageType.Awareness, update: presenceUpdate(entries) });
}

/** JSON text of arrays nested `depth` deep: `[[[...]]]`. */
export function nestedArraysJson(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A frame header announcing `length` bytes of payload. */
export function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

/** A payload framed. */
export function framed(payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(payload.length), payload]);
}

/**
 * A Yjs update inserting one JSON value (arrays nested `depth` deep) into the text, written by
 * hand: Yjs's own encoder overflows its stack on a value this deep.
 */
export function deepJsonUpdate(depth: number, clientId = 7): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const rest = encoder.restEncoder;
  encoding.writeVarUint(rest, 1); // clients
  encoding.writeVarUint(rest, 1); // structs of that client
  encoder.writeClient(clientId);
  encoding.writeVarUint(rest, 0); // first clock
  encoder.writeInfo(2); // ContentJSON, no origins: its parent follows
  encoder.writeParentInfo(true);
  encoder.writeString(TEXT_NAME);
  encoder.writeLen(1);
  encoder.writeString(nestedArraysJson(depth));
  encoding.writeVarUint(rest, 0); // no deletions
  return encoder.toUint8Array();
}

/**
 * `count` one-character items by client `client` from clock `first` on, each placed right before
 * the one before it, so that no two can merge: what typing one character at a time at the start
 * of the text makes, written directly (Yjs would take minutes to make a million of them).
 */
export function unmergeableItemsUpdate(client: number, first: number, count: number): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const rest = encoder.restEncoder;
  encoding.writeVarUint(rest, 1); // clients
  encoding.writeVarUint(rest, count);
  encoder.writeClient(client);
  encoding.writeVarUint(rest, first);
  for (let clock = first; clock < first + count; clock++) {
    if (clock === 0) {
      encoder.writeInfo(4); // ContentString, no origins: its parent follows
      encoder.writeParentInfo(true);
      encoder.writeString(TEXT_NAME);
    } else {
      encoder.writeInfo(0x40 | 4); // ContentString with a right origin: the item before
      encoder.writeRightID(Y.createID(client, clock - 1));
    }
    encoder.writeString('x');
  }
  encoding.writeVarUint(rest, 0); // no deletions
  return encoder.toUint8Array();
}

/** The update a fresh Y.Doc (client id `clientId`) makes for `change`. */
export function updateOf(change: (doc: Y.Doc) => void, clientId: number): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  change(doc);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** Updates that change something other than inserting and deleting the text, each by a fresh client. */
export function nonTextUpdates(): Array<{ what: string; update: Uint8Array }> {
  let id = 1000;
  const next = () => id++;
  return [
    { what: 'a 10,000-deep JSON item in the text', update: deepJsonUpdate(10_000, next()) },
    {
      what: 'a binary value of 256 KB in a map',
      update: updateOf((d) => d.getMap('files').set('blob', new Uint8Array(256 * 1024)), next()),
    },
    { what: 'JSON values in a map', update: updateOf((d) => d.getMap('settings').set('x', { deep: [1, 2, { a: 'b' }] }), next()) },
    { what: 'JSON values in an array', update: updateOf((d) => d.getArray('list').push([1, 'two', { three: 3 }]), next()) },
    { what: 'an embed in the text', update: updateOf((d) => d.getText(TEXT_NAME).insertEmbed(0, { image: 'x.png' }), next()) },
    { what: 'a format in the text', update: updateOf((d) => d.getText(TEXT_NAME).insert(0, 'bold', { bold: true }), next()) },
    { what: 'a nested type in the text', update: updateOf((d) => d.getText(TEXT_NAME).insertEmbed(0, new Y.Map()), next()) },
    { what: 'text in another shared type', update: updateOf((d) => d.getText('notes').insert(0, 'hidden text'), next()) },
    { what: 'an embed in another shared type', update: updateOf((d) => d.getText('notes').insertEmbed(0, { video: 'y' }), next()) },
    { what: 'a subdocument', update: updateOf((d) => d.getMap('docs').set('sub', new Y.Doc()), next()) },
    { what: 'an XML element', update: updateOf((d) => d.getXmlFragment('xml').insert(0, [new Y.XmlElement('p')]), next()) },
  ];
}
