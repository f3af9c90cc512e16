import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as authProtocol from 'y-protocols/auth';
import { MessageType, SyncType, decodeMessage, encodeMessage, type Message } from './index';

// y-websocket's message numbers, written out here so a change on either side shows up as a failure.
const messageSync = 0;
const messageAwareness = 1;
const messageAuth = 2;
const messageQueryAwareness = 3;

/** Builds a payload exactly as y-websocket's server and client do: a lib0 encoder, the type, then the body. */
function yWebsocketMessage(type: number, writeBody: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  writeBody(encoder);
  return encoding.toUint8Array(encoder);
}

function editedDoc(): Y.Doc {
  const doc = new Y.Doc();
  const text = doc.getText('content');
  text.insert(0, 'Hello, world!\n');
  text.insert(7, 'dear ');
  text.delete(0, 5);
  text.insert(0, 'Goodbye 👋');
  text.insert(text.length, 'second line ünïcödé\n');
  return doc;
}

describe('byte-for-byte compatibility with y-websocket messages (types 0–3)', () => {
  let doc: Y.Doc;
  let peer: Y.Doc;

  beforeEach(() => {
    doc = editedDoc();
    peer = new Y.Doc();
    peer.getText('content').insert(0, 'the peer typed this offline');
  });

  afterEach(() => {
    doc.destroy();
    peer.destroy();
  });

  function expectSameBytes(payload: Uint8Array, expected: Partial<Message>): Message {
    const msg = decodeMessage(payload);
    expect(msg).toMatchObject(expected);
    expect(Buffer.from(encodeMessage(msg))).toEqual(Buffer.from(payload));
    return msg;
  }

  it('parses and reproduces a SYNC step 1 written by writeSyncStep1', () => {
    const payload = yWebsocketMessage(messageSync, (e) => syncProtocol.writeSyncStep1(e, doc));
    const msg = expectSameBytes(payload, { type: MessageType.Sync, syncType: SyncType.Step1 });
    expect(msg.type === MessageType.Sync && Buffer.from(msg.data)).toEqual(Buffer.from(Y.encodeStateVector(doc)));
  });

  it('parses and reproduces a SYNC step 2 written by writeSyncStep2 in answer to a peer', () => {
    const payload = yWebsocketMessage(messageSync, (e) => syncProtocol.writeSyncStep2(e, doc, Y.encodeStateVector(peer)));
    const msg = expectSameBytes(payload, { type: MessageType.Sync, syncType: SyncType.Step2 });
    if (msg.type !== MessageType.Sync) throw new Error('unreachable');
    Y.applyUpdate(peer, msg.data);
    expect(peer.getText('content').toString()).toContain(doc.getText('content').toString());
  });

  it('parses and reproduces every SYNC update written by writeUpdate as edits happen', () => {
    const payloads: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => {
      payloads.push(yWebsocketMessage(messageSync, (e) => syncProtocol.writeUpdate(e, update)));
    });
    const text = doc.getText('content');
    text.insert(3, 'abc');
    text.delete(0, 2);
    doc.transact(() => {
      text.insert(0, 'x'.repeat(300));
      text.format(0, 3, { bold: true });
    });
    expect(payloads).toHaveLength(3);
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(editedDoc()));
    for (const payload of payloads) {
      const msg = expectSameBytes(payload, { type: MessageType.Sync, syncType: SyncType.Update });
      if (msg.type === MessageType.Sync) Y.applyUpdate(replica, msg.data);
    }
    replica.destroy();
  });

  it('parses and reproduces an AWARENESS update from encodeAwarenessUpdate', () => {
    const awareness = new awarenessProtocol.Awareness(doc);
    try {
      awareness.setLocalState({ user: { name: 'Zoë', color: '#30bced' }, cursor: { anchor: 3, head: 5 } });
      const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]);
      const payload = yWebsocketMessage(messageAwareness, (e) => encoding.writeVarUint8Array(e, update));
      const msg = expectSameBytes(payload, { type: MessageType.Awareness });
      expect(msg.type === MessageType.Awareness && Buffer.from(msg.update)).toEqual(Buffer.from(update));
      // y-websocket's server removes a departed client's state with the same kind of message.
      awarenessProtocol.removeAwarenessStates(awareness, [doc.clientID], 'test');
      const removal = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]);
      expectSameBytes(
        yWebsocketMessage(messageAwareness, (e) => encoding.writeVarUint8Array(e, removal)),
        { type: MessageType.Awareness },
      );
    } finally {
      awareness.destroy();
    }
  });

  it('parses and reproduces an AUTH permission-denied message from y-protocols/auth', () => {
    const payload = yWebsocketMessage(messageAuth, (e) => authProtocol.writePermissionDenied(e, 'no entry'));
    expectSameBytes(payload, { type: MessageType.Auth });
  });

  it("parses and reproduces y-websocket's QUERY_AWARENESS, which has no body", () => {
    expectSameBytes(
      yWebsocketMessage(messageQueryAwareness, () => undefined),
      { type: MessageType.QueryAwareness },
    );
  });

  it('produces SYNC messages that y-protocols readSyncMessage understands and answers', () => {
    // The full exchange of PROTOCOL.md step 3, our bytes on the wire, y-protocols at both ends.
    const step1 = encodeMessage({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(peer) });
    const decoder = decoding.createDecoder(step1);
    expect(decoding.readVarUint(decoder)).toBe(messageSync);
    const reply = encoding.createEncoder();
    encoding.writeVarUint(reply, messageSync);
    expect(syncProtocol.readSyncMessage(decoder, reply, doc, 'test')).toBe(syncProtocol.messageYjsSyncStep1);

    const step2 = decodeMessage(encoding.toUint8Array(reply));
    expect(step2).toMatchObject({ type: MessageType.Sync, syncType: SyncType.Step2 });
    const forPeer = decoding.createDecoder(encodeMessage(step2));
    decoding.readVarUint(forPeer);
    syncProtocol.readSyncMessage(forPeer, encoding.createEncoder(), peer, 'test');
    expect(peer.getText('content').toString()).toContain('Goodbye 👋');
  });

  it('produces AWARENESS messages that applyAwarenessUpdate accepts', () => {
    const source = new awarenessProtocol.Awareness(doc);
    const target = new awarenessProtocol.Awareness(peer);
    try {
      source.setLocalStateField('user', { name: 'Ann' });
      const payload = encodeMessage({
        type: MessageType.Awareness,
        update: awarenessProtocol.encodeAwarenessUpdate(source, [doc.clientID]),
      });
      const decoder = decoding.createDecoder(payload);
      expect(decoding.readVarUint(decoder)).toBe(messageAwareness);
      awarenessProtocol.applyAwarenessUpdate(target, decoding.readVarUint8Array(decoder), 'test');
      expect(target.getStates().get(doc.clientID)).toEqual({ user: { name: 'Ann' } });
    } finally {
      source.destroy();
      target.destroy();
    }
  });
});
