// The ACK layer over y-websocket's provider, against a stand-in WebSocket the test plays the
// server through, message by message.
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { AckingProvider } from '../src/acking-provider';
import { MessageType, SyncType, syncTypeOf } from '../src/protocol';

/** A WebSocket that records what is sent; the test opens it and hands it messages. */
class StandInSocket {
  static last: StandInSocket | undefined;
  readonly OPEN = 1;
  readyState = 0;
  binaryType = 'arraybuffer';
  sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(readonly url: string) {
    StandInSocket.last = this;
  }
  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(bytes: Uint8Array): void {
    this.onmessage?.({ data: bytes.slice().buffer });
  }
  syncSent(type: number): number {
    return this.sent.filter((m) => syncTypeOf(m) === type).length;
  }
}

const serverDoc = new Y.Doc();
const stepOne = () => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.Sync);
  syncProtocol.writeSyncStep1(encoder, serverDoc);
  return encoding.toUint8Array(encoder);
};
const ack = (n: number) => Uint8Array.of(MessageType.Ack, n);

describe('AckingProvider', () => {
  let acking: AckingProvider;
  afterEach(() => {
    acking.provider.awareness.destroy();
    acking.destroy();
  });

  it('asks for ACK, holds back edits until it has answered the server, and is saved once they are acknowledged', () => {
    const doc = new Y.Doc();
    acking = new AckingProvider({
      serverUrl: 'ws://collab.test:8090',
      document: 'notes',
      doc,
      token: 's3cret',
      name: 'ann',
      WebSocket: StandInSocket as never,
    });
    const socket = StandInSocket.last!;
    expect(socket.url).toBe('ws://collab.test:8090/notes?ack=1&name=ann&token=s3cret');
    socket.open();
    doc.getText('content').insert(0, 'typed before the server asked');
    // Not sent: the server would refuse an update it cannot place yet; the step 2 carries it.
    expect(socket.syncSent(SyncType.Update)).toBe(0);
    expect(acking.tracker.saved).toBe(false);
    socket.receive(stepOne());
    expect(socket.syncSent(SyncType.Step2)).toBe(1);
    doc.getText('content').insert(0, 'typed after ');
    expect(socket.syncSent(SyncType.Update)).toBe(1);
    socket.receive(ack(1));
    expect(acking.tracker.unsaved).toBe(1);
    socket.receive(ack(2));
    expect(acking.tracker.saved).toBe(true);
  });

  it('counts again from 1 on a new connection', () => {
    const doc = new Y.Doc();
    acking = new AckingProvider({ serverUrl: 'ws://collab.test:8090', document: 'temp', doc, WebSocket: StandInSocket as never });
    const first = StandInSocket.last!;
    first.open();
    first.receive(stepOne());
    doc.getText('content').insert(0, 'one');
    first.onclose?.({ code: 1006, reason: '' }); // lost before any ACK
    acking.provider.connect(); // at once, rather than after the provider's back-off
    const second = StandInSocket.last!;
    expect(second).not.toBe(first);
    second.open();
    doc.getText('content').insert(0, 'two ');
    second.receive(stepOne());
    expect(acking.tracker.saved).toBe(false);
    second.receive(ack(1));
    expect(acking.tracker.saved).toBe(true);
  });
});
