// The presence hook for storages shared by several servers (Redis): this server's clients'
// presence goes to the storage, other servers' presence comes back through the view, is relayed
// to this server's clients, and is never passed on again.
import * as decoding from 'lib0/decoding';
import { MessageType, decodeMessage } from '@collab/collab-protocol';
import { MemoryStorage } from './memory-storage';
import { SharedDocument, type DocumentPeer } from './shared-document';
import type { LiveDocumentView, StoredDocument } from './storage';
import { encodeAwarenessEntries } from './testing';

const presence = encodeAwarenessEntries;

/** The entries of an awareness update: id -> JSON text. */
function entriesOf(update: Uint8Array): Map<number, string> {
  const decoder = decoding.createDecoder(update);
  const found = new Map<number, string>();
  for (let n = decoding.readVarUint(decoder); n > 0; n--) {
    const id = decoding.readVarUint(decoder);
    decoding.readVarUint(decoder);
    found.set(id, decoding.readVarString(decoder));
  }
  return found;
}

class Peer implements DocumentPeer {
  readonly sent: Uint8Array[] = [];
  constructor(readonly label: string) {}
  send(payload: Uint8Array): void {
    this.sent.push(payload);
  }
  /** The entries of every AWARENESS message it got, in order. */
  presenceSeen(): Array<Map<number, string>> {
    return this.sent.map((p) => decodeMessage(p)).flatMap((m) => (m.type === MessageType.Awareness ? [entriesOf(m.update)] : []));
  }
}

async function load() {
  const stored = (await new MemoryStorage().open('doc')) as StoredDocument & { presenceChanged?: (u: Uint8Array) => void };
  const published: Array<Map<number, string>> = [];
  stored.presenceChanged = (update) => published.push(entriesOf(update));
  let view: LiveDocumentView | undefined;
  const attach = stored.attach.bind(stored);
  stored.attach = (v) => {
    view = v;
    return attach(v);
  };
  const document = await SharedDocument.load(stored, {
    maxMessageBytes: 1 << 20,
    maxDocumentChars: 1000,
    maxDocumentItems: 1 << 20,
    presence: { maxStateBytes: 1024, maxDepth: 8, maxIdsPerPeer: 2 },
  });
  return { document, view: view!, published };
}

describe('presence shared with other servers', () => {
  it("passes this server's clients' presence, and its removal, to the storage", async () => {
    const { document, published } = await load();
    const ann = new Peer('ann');
    document.join(ann);
    document.applyAwareness(ann, presence([7, 1, '{"name":"ann"}']));
    expect(published).toEqual([new Map([[7, '{"name":"ann"}']])]);
    document.leave(ann);
    expect(published[1]).toEqual(new Map([[7, 'null']]));
    await document.close();
  });

  it("relays another server's presence to this server's clients, never back to the storage, and drops it when that server is gone", async () => {
    const { document, view, published } = await load();
    const ann = new Peer('ann');
    document.join(ann);
    // Three ids from one server: more than one connection may hold (2), fine for a server.
    view.applyRemotePresence('server-b', presence([11, 1, '{"n":"b1"}'], [12, 1, '{"n":"b2"}'], [13, 1, '{"n":"b3"}']));
    expect(ann.presenceSeen().at(-1)).toEqual(
      new Map([
        [11, '{"n":"b1"}'],
        [12, '{"n":"b2"}'],
        [13, '{"n":"b3"}'],
      ]),
    );
    expect(published).toEqual([]);
    expect(view.localPresence()).toBeNull();
    document.applyAwareness(ann, presence([7, 1, '{"name":"ann"}']));
    expect(entriesOf(view.localPresence()!)).toEqual(new Map([[7, '{"name":"ann"}']]));
    view.dropRemotePresence('server-b');
    expect([...document.presence.awareness.getStates().keys()]).toEqual([7]);
    expect(ann.presenceSeen().at(-1)).toEqual(
      new Map([
        [11, 'null'],
        [12, 'null'],
        [13, 'null'],
      ]),
    );
    expect(published).toHaveLength(1); // ann's own, not the drop
    await document.close();
  });

  it('leaves alone an id a client of this server holds (it moved here), whatever another server says of it', async () => {
    const { document, view } = await load();
    const ann = new Peer('ann');
    document.join(ann);
    document.applyAwareness(ann, presence([7, 5, '{"name":"ann here"}']));
    view.applyRemotePresence('server-b', presence([7, 6, 'null']));
    view.applyRemotePresence('server-b', presence([7, 7, '{"name":"ann there"}']));
    expect(document.presence.awareness.getStates().get(7)).toEqual({ name: 'ann here' });
    view.applyRemotePresence('server-b', new Uint8Array([0xff])); // unreadable: ignored
    await document.close();
  });
});
