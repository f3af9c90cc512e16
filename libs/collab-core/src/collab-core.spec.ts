import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { ErrorCode, MessageType, SyncType, makeHello, type Message } from '@collab/collab-protocol';
import { CollabCore } from './collab-core';
import { MemoryStorage } from './memory-storage';
import { TEXT_NAME } from './shared-document';
import type { CoreSettings } from './settings';
import { MemoryTransport, captureLogger, encodeAwarenessEntries } from './testing';

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets what the core does next happen: promise callbacks, turns of the loop, and relays (which wait a few milliseconds when a relay interval is set). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (let i = 0; i < 3; i++) await tick();
}

const cores: CollabCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

async function startCore(settings: Partial<CoreSettings> = {}, storage = new MemoryStorage()) {
  const { logger, lines } = captureLogger();
  const core = new CollabCore({ settings: { idleTimeoutMs: 0, unloadAfterMs: 10, ...settings }, storage, logger });
  await core.start();
  cores.push(core);
  return { core, storage, lines };
}

function connect(core: CollabCore, address = '127.0.0.1'): MemoryTransport {
  const transport = new MemoryTransport(address);
  transport.connection = core.connect(transport);
  return transport;
}

/** Connects, says HELLO, answers the server's step 1 with an empty doc's, and waits. */
async function join(core: CollabCore, options: { document?: string; name?: string; token?: string; address?: string } = {}) {
  const transport = connect(core, options.address);
  transport.deliver(makeHello({ document: options.document ?? 'temp', clientName: options.name ?? 'ann', token: options.token }));
  await settle();
  const doc = new Y.Doc();
  transport.deliver({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(doc) });
  await settle();
  return { transport, doc };
}

/** An update inserting one JSON value (a 20 KB array nested `depth` deep) into the text, written by hand: Yjs's own encoder overflows its stack on it. */
function deepJsonUpdate(depth: number): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const rest = encoder.restEncoder;
  encoding.writeVarUint(rest, 1); // clients
  encoding.writeVarUint(rest, 1); // structs of that client
  encoder.writeClient(7);
  encoding.writeVarUint(rest, 0); // first clock
  encoder.writeInfo(2); // ContentJSON, no origins: its parent follows
  encoder.writeParentInfo(true);
  encoder.writeString(TEXT_NAME);
  encoder.writeLen(1);
  encoder.writeString('['.repeat(depth) + ']'.repeat(depth));
  encoding.writeVarUint(rest, 0); // no deletions
  return encoder.toUint8Array();
}

const errorOf = (messages: Message[]) =>
  messages.find((m) => m.type === MessageType.Error) as Extract<Message, { type: MessageType.Error }> | undefined;

function textUpdate(text: string, clientId = 1): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  doc.getText(TEXT_NAME).insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

/** The SYNC updates a client was sent. */
const relayed = (t: MemoryTransport) =>
  t.sent.filter((m): m is Extract<Message, { type: MessageType.Sync }> => m.type === MessageType.Sync && m.syncType === SyncType.Update);

/** The text of a fresh document that applied `messages`. */
function textOf(messages: ReadonlyArray<{ data: Uint8Array }>): string {
  const doc = new Y.Doc();
  for (const m of messages) Y.applyUpdate(doc, m.data);
  return doc.getText(TEXT_NAME).toString();
}

describe('CollabCore', () => {
  it('welcomes a client after its HELLO, sends its step 1, and ACKs a change once stored', async () => {
    const { core, storage } = await startCore();
    const { transport } = await join(core);
    const sent = transport.sent;
    expect(sent[0]).toMatchObject({ type: MessageType.Welcome, document: 'temp' });
    expect(sent[1]).toMatchObject({ type: MessageType.Sync, syncType: SyncType.Step1 });
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('hello') });
    await settle();
    expect(transport.sent.at(-1)).toEqual({ type: MessageType.Ack, count: 1 });
    expect(storage.load('temp').getText(TEXT_NAME).toString()).toBe('hello');
  });

  it('allows only a HELLO-sized message before HELLO, the full frame size after', async () => {
    const { core } = await startCore({ maxHelloBytes: 4096, maxFrameBytes: 1024 * 1024 });
    const transport = connect(core);
    expect(transport.connection!.maxMessageBytes).toBe(4096);
    transport.deliver(makeHello({ document: 'temp', clientName: 'ann' }));
    expect(transport.connection!.maxMessageBytes).toBe(1024 * 1024);
  });

  it('relays a change to the other clients of the document, not back to its author', async () => {
    const { core } = await startCore();
    const a = await join(core, { name: 'ann' });
    const b = await join(core, { name: 'bob' });
    const before = a.transport.payloads.length;
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('hi') });
    await settle();
    expect(b.transport.sent.some((m) => m.type === MessageType.Sync && m.syncType === SyncType.Update)).toBe(true);
    expect(a.transport.sent.slice(before).map((m) => m.type)).toEqual([MessageType.Ack]);
  });

  it('relays a few updates of one turn one by one, in order, never an author its own', async () => {
    const { core } = await startCore();
    const a = await join(core, { name: 'ann' });
    const b = await join(core, { name: 'bob' });
    const c = await join(core, { name: 'cy' });
    const before = [a, b, c].map(({ transport }) => relayed(transport).length);
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('from ann', 11) });
    b.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('from bob', 12) });
    await settle();
    const got = [a, b, c].map(({ transport }, i) => relayed(transport).slice(before[i]));
    expect(got.map((messages) => messages.length)).toEqual([1, 1, 2]);
    expect(textOf(got[0]!)).toBe('from bob');
    expect(textOf(got[1]!)).toBe('from ann');
    expect(textOf(got[2]!).length).toBe('from annfrom bob'.length);
  });

  /** `writers` clients each send one update in the same turn; what a reader that wrote none of them got, and what the first writer got. */
  async function burst(writers: number) {
    const { core } = await startCore();
    const authors = [];
    for (let i = 0; i < writers; i++) authors.push(await join(core, { name: `writer${i}` }));
    const reader = await join(core, { name: 'reader' });
    const before = relayed(reader.transport).length;
    authors.forEach(({ transport }, i) =>
      transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate(`${i}`, 20 + i) }),
    );
    await settle();
    return { toReader: relayed(reader.transport).slice(before), toFirstWriter: relayed(authors[0]!.transport) };
  }

  it('relays a turn merged when that saves 64 sends or more ((updates - 1) x clients), one message per client that wrote none of it', async () => {
    const { toReader, toFirstWriter } = await burst(9);
    expect(toReader).toHaveLength(1);
    expect([...textOf(toReader)].sort().join('')).toBe('012345678');
    // An author gets the others' updates, one by one, never its own.
    expect(toFirstWriter.slice(-8).map((m) => textOf([m]))).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  });

  it('relays 8 updates of one turn to 9 clients one by one (merging would save only 63 sends)', async () => {
    const { toReader } = await burst(8);
    expect(toReader.map((m) => textOf([m]))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('stores nothing for a change that changes nothing (an empty step 2, an update sent twice), and ACKs it after the changes before it', async () => {
    const { core, storage } = await startCore();
    const a = await join(core, { document: 'looked-at' });
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(new Y.Doc()) });
    await settle();
    expect(a.transport.sent.at(-1)).toEqual({ type: MessageType.Ack, count: 1 });
    expect(storage.records.has('looked-at')).toBe(false);
    const update = textUpdate('once');
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: update });
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: update });
    await settle();
    // Changes stored by one commit are acknowledged by one ACK of the last.
    expect(a.transport.sent.filter((m) => m.type === MessageType.Ack).at(-1)).toEqual({ type: MessageType.Ack, count: 3 });
    expect(storage.records.get('looked-at')?.updates).toHaveLength(1);
  });

  it('counts answers against the byte budget: a client repeating sync step 1 is slowed, and what it sent meanwhile waits, in order', async () => {
    const { core, lines } = await startCore({ maxBytesPerSecond: 1024 });
    await core.edit('temp', 'file', (text) => text.insert(0, 'x'.repeat(3000)));
    const a = await join(core); // its first answer (3 KB) already leaves it 1 KB in debt
    const stepTwos = () => a.transport.sent.filter((m) => m.type === MessageType.Sync && m.syncType === SyncType.Step2).length;
    expect(stepTwos()).toBe(1);
    expect(a.transport.paused).toBe(true);
    for (let i = 0; i < 10; i++)
      a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(new Y.Doc()) });
    a.transport.deliver({ type: MessageType.Ping });
    await settle();
    expect(stepTwos()).toBe(1); // none handled while paused
    await waitUntil(() => stepTwos() === 2, 3000);
    expect(a.transport.paused).toBe(true); // the second answer put it in debt again
    expect(a.transport.sent.some((m) => m.type === MessageType.Pong)).toBe(false); // the PING waits behind the requests
    expect(lines.some((l) => /\[WARN\] Client ann \(127\.0\.0\.1:\d+\) sends or asks for more than 1024 bytes a second/.test(l))).toBe(
      true,
    );
  });

  it('refuses with ERROR 10 an edit that would give the document more items than maxDocumentItems, however few its characters', async () => {
    const { core, storage, lines } = await startCore({ maxDocumentItems: 20 });
    const a = await join(core, { name: 'ann' });
    const doc = new Y.Doc();
    doc.clientID = 5;
    const text = doc.getText(TEXT_NAME);
    const send = (change: () => void) => {
      const before = Y.encodeStateVector(doc);
      change();
      a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(doc, before) });
    };
    // Ten characters, each typed before the last: ten items that cannot merge.
    send(() => {
      for (let i = 0; i < 10; i++) text.insert(0, 'x');
    });
    await settle();
    expect(errorOf(a.transport.sent)).toBeUndefined();
    // A run typed in one go is one item: fine. A deletion adds none: fine even at the limit.
    send(() => text.insert(text.length, 'y'.repeat(1000)));
    send(() => text.delete(0, 1));
    await settle();
    expect(errorOf(a.transport.sent)).toBeUndefined();
    send(() => {
      for (let i = 0; i < 15; i++) text.insert(0, 'z');
    });
    await settle();
    const error = errorOf(a.transport.sent);
    expect(error?.code).toBe(ErrorCode.DocumentTooLarge);
    expect(error?.message).toMatch(/at most 20 separate pieces of text/);
    expect(
      lines.some((l) => /^\[WARN\] Refused an edit of client ann \(127\.0\.0\.1:\d+\): document temp would pass 20 items/.test(l)),
    ).toBe(true);
    expect(storage.load('temp').getText(TEXT_NAME).toString()).toBe('x'.repeat(9) + 'y'.repeat(1000));
    const b = await join(core, { name: 'bob' });
    expect(errorOf(b.transport.sent)).toBeUndefined();
  });

  it('answers FLUSH with FLUSHED once the plain-text copy is written', async () => {
    const { core, storage } = await startCore();
    const { transport } = await join(core);
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('flushed') });
    transport.deliver({ type: MessageType.Flush });
    await settle();
    expect(transport.sent).toContainEqual({ type: MessageType.Flushed });
    expect(storage.records.get('temp')?.text).toBe('flushed');
  });

  it('refuses an update that edits anything but the text with ERROR 3, storing and relaying none of it', async () => {
    const { core, storage, lines } = await startCore();
    const a = await join(core, { name: 'ann' });
    const b = await join(core, { name: 'bob' });
    const other = new Y.Doc();
    other.getMap('settings').set('x', 1);
    const relayedBefore = b.transport.payloads.length;
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(other) });
    await settle();
    expect(errorOf(a.transport.sent)).toMatchObject({
      code: ErrorCode.ProtocolError,
      message: expect.stringMatching(/only text may be inserted and deleted/),
    });
    expect(b.transport.payloads.length).toBe(relayedBefore);
    expect(storage.records.get('temp')?.updates ?? []).toEqual([]);
    expect(lines.some((l) => l.startsWith('[WARN] Refused an edit of client ann ('))).toBe(true);
  });

  it('refuses JSON content nested deep inside an update, and later joiners still get the document', async () => {
    const { core } = await startCore();
    const a = await join(core);
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: deepJsonUpdate(10_000) });
    await settle();
    expect(errorOf(a.transport.sent)?.code).toBe(ErrorCode.ProtocolError);
    const b = await join(core);
    expect(b.transport.sent.some((m) => m.type === MessageType.Sync && m.syncType === SyncType.Step2)).toBe(true);
    expect(errorOf(b.transport.sent)).toBeUndefined();
  });

  it('sends a state larger than one frame as several updates and a last step 2', async () => {
    const { core } = await startCore({ maxFrameBytes: 64 * 1024, maxBytesPerSecond: 1024 * 1024 * 1024 });
    const a = await join(core);
    const doc = new Y.Doc();
    const text = doc.getText(TEXT_NAME);
    for (let i = 0; i < 10; i++) {
      const sv = Y.encodeStateVector(doc);
      text.insert(text.length, 'é'.repeat(20_000));
      a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(doc, sv) });
    }
    await settle();
    expect(errorOf(a.transport.sent)).toBeUndefined();
    const b = await join(core);
    const syncs = b.transport.sent.filter(
      (m): m is Extract<Message, { type: MessageType.Sync }> => m.type === MessageType.Sync && m.syncType !== SyncType.Step1,
    );
    expect(syncs.length).toBeGreaterThan(3);
    expect(syncs.at(-1)!.syncType).toBe(SyncType.Step2);
    expect(b.transport.payloads.every((p) => p.length <= 64 * 1024)).toBe(true);
    const copy = new Y.Doc();
    for (const m of syncs) Y.applyUpdate(copy, m.data);
    expect(copy.getText(TEXT_NAME).toString()).toBe(text.toString());
  });

  it('refuses client 11 with ERROR 1', async () => {
    const { core } = await startCore({ maxClients: 2 });
    await join(core);
    await join(core);
    const third = connect(core);
    expect(third.connection).toBeUndefined();
    expect(third.refusal).toEqual({ code: ErrorCode.ServerFull, message: 'Server is full. Please try again later.' });
  });

  it('closes the oldest connection waiting for HELLO past the limit, even in a burst', async () => {
    const { core } = await startCore({ maxPendingHandshakes: 10, maxConnectionsPerAddress: 0 });
    const transports = Array.from({ length: 100 }, () => connect(core));
    await settle();
    expect(transports.filter((t) => !t.closed)).toHaveLength(10);
    expect(transports.slice(90).every((t) => !t.closed)).toBe(true);
    expect(core.connectionCount).toBe(10);
  });

  it('releases the document of a client that leaves while it loads, so its slot is not lost', async () => {
    const { core } = await startCore({ maxDocuments: 2, unloadAfterMs: 1 });
    const early = connect(core);
    early.deliver(makeHello({ document: 'one', clientName: 'ann' }));
    early.hangUp();
    await settle();
    await new Promise((r) => setTimeout(r, 20));
    // temp and one were loaded; both are unloaded again, so two other documents fit.
    const a = await join(core, { document: 'two' });
    const b = await join(core, { document: 'three' });
    expect(errorOf(a.transport.sent)).toBeUndefined();
    expect(errorOf(b.transport.sent)).toBeUndefined();
  });

  it('makes an address that sends wrong tokens wait, doubling, and tells it so', async () => {
    const { core, lines } = await startCore({ token: 'right', authFailuresAllowed: 2 });
    const tries: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const t = connect(core);
      t.deliver(makeHello({ document: 'temp', clientName: 'eve', token: 'wrong' }));
      tries.push(t.refusal?.code);
      expect(t.refusal?.code).toBe(ErrorCode.AuthFailed);
    }
    const blocked = connect(core);
    blocked.deliver(makeHello({ document: 'temp', clientName: 'eve', token: 'right' }));
    expect(blocked.refusal?.message).toMatch(/Too many wrong tokens from 127\.0\.0\.1; try again in \d+ s/);
    const elsewhere = await join(core, { token: 'right', address: '::1' });
    expect(errorOf(elsewhere.transport.sent)).toBeUndefined();
    await settle();
    expect(lines.some((l) => /^\[WARN\] Wrong token from eve \(127\.0\.0\.1:\d+\); 127\.0\.0\.1 must wait \d+ s/.test(l))).toBe(true); // The refusal while it waits names the client too.
    expect(lines.some((l) => /^\[WARN\] Sent ERROR 2 to client eve \(127\.0\.0\.1:\d+\): Too many wrong tokens/.test(l))).toBe(true);
  });

  it('tells a client with no token that the server needs one', async () => {
    const { core } = await startCore({ token: 'secret' });
    const t = connect(core);
    t.deliver(makeHello({ document: 'temp', clientName: 'ann' }));
    expect(t.refusal).toEqual({
      code: ErrorCode.AuthFailed,
      message: 'Authentication failed: this server needs a token, and none was sent.',
    });
  });

  it('checks a token for transports that carry it themselves, with the same back-off as HELLO', async () => {
    const { core, lines } = await startCore({ token: 'right', authFailuresAllowed: 1 });
    const remote = { remoteAddress: '127.0.0.1', remoteLabel: '127.0.0.1:5000' };
    expect(core.checkToken(remote, 'right')).toEqual({ ok: true });
    expect(core.checkToken(remote, undefined)).toMatchObject({ ok: false, reason: 'missing' });
    expect(core.checkToken(remote, 'wrong')).toMatchObject({ ok: false, reason: 'wrong' });
    // Two failures with one allowed: the address must wait, even with the right token, and HELLO too.
    expect(core.checkToken(remote, 'right')).toMatchObject({ ok: false, reason: 'wait', waitMs: expect.any(Number) });
    const hello = connect(core);
    hello.deliver(makeHello({ document: 'temp', clientName: 'eve', token: 'right' }));
    expect(hello.refusal?.message).toMatch(/Too many wrong tokens from 127\.0\.0\.1/);
    expect(core.checkToken({ remoteAddress: '::1', remoteLabel: '[::1]:5000' }, 'right')).toEqual({ ok: true });
    expect(lines.some((l) => /^\[WARN\] Wrong token from 127\.0\.0\.1:5000; 127\.0\.0\.1 must wait \d+ s/.test(l))).toBe(true);
  });

  it('lets any token through when the server has none', async () => {
    const { core } = await startCore();
    expect(core.checkToken({ remoteAddress: '127.0.0.1', remoteLabel: '127.0.0.1:5000' }, undefined)).toEqual({ ok: true });
  });

  it('starts a session joined by the transport: no HELLO, no WELCOME, no ACK unless asked', async () => {
    const { core } = await startCore();
    const quiet = new MemoryTransport();
    quiet.connection = core.connect(quiet, { join: { document: 'web', clientName: 'ann' }, acks: false });
    const acking = new MemoryTransport();
    acking.connection = core.connect(acking, { join: { document: 'web', clientName: 'bob' }, acks: true });
    await settle();
    expect(quiet.sent[0]).toMatchObject({ type: MessageType.Sync, syncType: SyncType.Step1 });
    expect(quiet.sent.some((m) => m.type === MessageType.Welcome)).toBe(false);
    for (const t of [quiet, acking]) t.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('x') });
    await settle();
    expect(quiet.sent.some((m) => m.type === MessageType.Ack)).toBe(false);
    expect(acking.sent).toContainEqual({ type: MessageType.Ack, count: 1 });
  });

  it('tells a client the storage failed without the server paths, and logs the details', async () => {
    const { core, storage, lines } = await startCore();
    const { transport } = await join(core);
    storage.failAppends = true;
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('lost?') });
    await settle();
    expect(errorOf(transport.sent)?.code).toBe(ErrorCode.StorageUnavailable);
    expect(errorOf(transport.sent)?.message).not.toMatch(/\//);
    expect(lines.some((l) => l.startsWith('[ERROR] Could not store an edit of client ann'))).toBe(true);
  });

  it('closes the client whose message trips a bug, logs it, and keeps serving the others', async () => {
    const { core, lines } = await startCore();
    const a = await join(core, { name: 'ann' });
    const b = await join(core, { name: 'bob' });
    const document = await core.documents.loaded('temp');
    const original = document!.applyAwareness.bind(document);
    document!.applyAwareness = () => {
      throw new TypeError('a bug');
    };
    a.transport.deliver({ type: MessageType.Awareness, update: new Uint8Array([0]) });
    document!.applyAwareness = original;
    await settle();
    expect(errorOf(a.transport.sent)?.code).toBe(ErrorCode.ProtocolError);
    expect(lines.some((l) => l.startsWith('[ERROR] Internal error while handling a message from client ann') && l.includes('a bug'))).toBe(
      true,
    );
    b.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('still here') });
    await settle();
    expect(b.transport.sent.at(-1)).toEqual({ type: MessageType.Ack, count: 1 });
  });

  it('closes a joiner whose join trips a bug, logs it, and keeps serving the others', async () => {
    const { core, lines } = await startCore();
    const a = await join(core, { name: 'ann' });
    const document = await core.documents.loaded('temp');
    const original = document!.join.bind(document);
    document!.join = () => {
      throw new TypeError('a bug in join');
    };
    const b = connect(core);
    b.deliver(makeHello({ document: 'temp', clientName: 'bob' }));
    await settle();
    document!.join = original;
    expect(errorOf(b.sent)?.code).toBe(ErrorCode.ProtocolError);
    expect(
      lines.some((l) => l.startsWith('[ERROR] Internal error while handling a message from client bob') && l.includes('a bug in join')),
    ).toBe(true);
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('still here') });
    await settle();
    expect(a.transport.sent.at(-1)).toEqual({ type: MessageType.Ack, count: 1 });
    const c = await join(core, { name: 'cid' });
    expect(errorOf(c.transport.sent)).toBeUndefined();
  });

  it('applies, stores, relays and logs an edit made by the server itself', async () => {
    const { core, storage, lines } = await startCore();
    const a = await join(core, { name: 'ann' });
    await core.edit('temp', 'file', (text) => text.insert(0, 'from the file\n'));
    await settle();
    expect(storage.load('temp').getText(TEXT_NAME).toString()).toBe('from the file\n');
    const relayed = a.transport.sent.filter((m) => m.type === MessageType.Sync && m.syncType === SyncType.Update);
    expect(relayed).toHaveLength(1);
    expect(lines).toContain('[UPDATE] Document updated by file: from the file');
  });

  it('logs one [UPDATE] line per line typed, not per keystroke, naming the client', async () => {
    const { core, lines } = await startCore();
    const a = await join(core, { name: 'ann' });
    await join(core, { name: 'bob' });
    const doc = new Y.Doc();
    const text = doc.getText(TEXT_NAME);
    for (const ch of 'one line\n') {
      const sv = Y.encodeStateVector(doc);
      text.insert(text.length, ch);
      a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(doc, sv) });
    }
    await settle();
    const updates = lines.filter((l) => l.startsWith('[UPDATE]'));
    expect(updates).toEqual([expect.stringMatching(/^\[UPDATE\] Document updated by ann \(127\.0\.0\.1:\d+\): one line$/)]);
    expect(lines.filter((l) => l.startsWith('[INFO] Broadcasted update to client bob ('))).toHaveLength(1);
  });

  it('sends ERROR 9 to everyone on close and stores everything', async () => {
    const { core, storage } = await startCore();
    const { transport } = await join(core);
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: textUpdate('kept') });
    await core.close();
    expect(transport.refusal?.code).toBe(ErrorCode.ShuttingDown);
    expect(storage.load('temp').getText(TEXT_NAME).toString()).toBe('kept');
  });
});

describe('CollabCore and updates that add nothing', () => {
  // Found by fuzzing (a bit flipped in an update sent twice): Yjs looks up the origin of every
  // struct of an update, even of one the document has, and splits the item it lands in; a split
  // inside a surrogate pair replaces both halves with U+FFFD, and no 'update' event says so. The
  // update "changed nothing", so it was neither stored nor relayed: the server's text lost an
  // emoji that its log, its other clients and its next restart kept.
  it('keeps the text, the log and the peers alike when an update of known structs points inside a surrogate pair', async () => {
    const { core, storage } = await startCore();
    const author = new Y.Doc();
    author.clientID = 5;
    const text = author.getText(TEXT_NAME);
    const updates: Uint8Array[] = [];
    author.on('update', (update: Uint8Array) => updates.push(update));
    text.insert(0, 'a\u{1F600}b'); // clocks 0-3, the emoji at 1 and 2
    text.insert(4, 'c'); // clock 4, after clock 3
    const { transport } = await join(core, { name: 'ann' });
    const peer = await join(core, { name: 'bob' });
    for (const data of updates) transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data });
    await settle();
    // The second update again, its origin now clock 1: the emoji's first half.
    const encoder = new Y.UpdateEncoderV1();
    encoding.writeVarUint(encoder.restEncoder, 1); // clients
    encoding.writeVarUint(encoder.restEncoder, 1); // structs
    encoder.writeClient(5);
    encoding.writeVarUint(encoder.restEncoder, 4); // first clock
    encoder.writeInfo(4 | 0x80); // a string with an origin
    encoder.writeLeftID(Y.createID(5, 1));
    encoder.writeString('c');
    encoding.writeVarUint(encoder.restEncoder, 0); // no deletions
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: encoder.toUint8Array() });
    await settle();
    const document = (await core.documents.loaded('temp'))!;
    const peerDoc = new Y.Doc();
    for (const m of peer.transport.sent) if (m.type === MessageType.Sync && m.syncType !== SyncType.Step1) Y.applyUpdate(peerDoc, m.data);
    expect({
      server: document.text,
      peer: peerDoc.getText(TEXT_NAME).toString(),
      stored: storage.load('temp').getText(TEXT_NAME).toString(),
    }).toEqual({
      server: 'a\u{1F600}bc',
      peer: 'a\u{1F600}bc',
      stored: 'a\u{1F600}bc',
    });
  });

  // A client that sends what the server has (its whole state again, an update resent after a
  // reconnect, a transaction nested in another's 'update' event, which Yjs encodes with the items
  // of every later one) costs a decode: the document is not touched, nothing is relayed or stored.
  it('leaves the document alone for an update of known structs without deletions, and ACKs it after the changes before it', async () => {
    const { core, storage } = await startCore();
    const a = await join(core);
    const peer = await join(core, { name: 'bob' });
    const author = new Y.Doc();
    const updates: Uint8Array[] = [];
    author.on('update', (update: Uint8Array) => updates.push(update));
    author.getText(TEXT_NAME).insert(0, 'ab');
    author.getText(TEXT_NAME).insert(2, 'c');
    for (const data of updates) a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data });
    await settle();
    const document = (await core.documents.loaded('temp'))!;
    let transactions = 0;
    document.doc.on('afterTransaction', () => transactions++);
    const before = relayed(peer.transport).length;
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(author) });
    await settle();
    expect({
      transactions,
      relayed: relayed(peer.transport).length - before,
      records: storage.records.get('temp')?.updates.length,
      ack: a.transport.sent.filter((m) => m.type === MessageType.Ack).at(-1),
    }).toEqual({ transactions: 0, relayed: 0, records: 2, ack: { type: MessageType.Ack, count: 3 } });
    // Known structs with a deletion: the deletion alone is applied, stored and relayed.
    author.getText(TEXT_NAME).delete(0, 1);
    a.transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(author) });
    await settle();
    expect({
      text: document.text,
      records: storage.records.get('temp')?.updates.length,
      relayed: relayed(peer.transport).length - before,
    }).toEqual({
      text: 'bc',
      records: 3,
      relayed: 1,
    });
  });
});

describe('CollabCore presence', () => {
  const presence = encodeAwarenessEntries;

  /** How many entries the AWARENESS messages among `messages` hold. */
  function presenceEntries(messages: Message[]): number {
    return messages.reduce(
      (sum, m) => (m.type === MessageType.Awareness ? sum + decoding.readVarUint(decoding.createDecoder(m.update)) : sum),
      0,
    );
  }

  // Found by fuzzing: an update naming an id twice (added, then updated) was relayed with the
  // state twice, which for two states near maxPresenceBytes made a message past maxFrameBytes.
  it('relays each id once, however often one update names it', async () => {
    const { core } = await startCore();
    const sender = await join(core, { name: 'ann' });
    const watcher = await join(core, { name: 'bob' });
    const before = watcher.transport.payloads.length;
    sender.transport.deliver({ type: MessageType.Awareness, update: presence([77, 1, '{"n":1}'], [77, 2, '{"n":2}']) });
    await settle();
    expect(sender.transport.refusal).toBeUndefined();
    expect(presenceEntries(watcher.transport.sent.slice(before))).toBe(1);
  });

  // Found by fuzzing (1 in 41,144 inputs): y-protocols reports an id removed and set again within
  // one update as both "removed" and "updated"; the core took the removal last and forgot who
  // held the state it had just set, so the state outlived its client.
  it('removes at leave a presence the client removed and set again in one update', async () => {
    const { core } = await startCore();
    const sender = await join(core);
    sender.transport.deliver({ type: MessageType.Awareness, update: presence([7, 1, '{"n":1}']) });
    sender.transport.deliver({ type: MessageType.Awareness, update: presence([7, 1, 'null'], [7, 2, '{"n":2}']) });
    await settle();
    const document = (await core.documents.loaded('temp'))!;
    expect(document.presence.awareness.getStates().get(7)).toEqual({ n: 2 });
    sender.transport.hangUp();
    await settle();
    expect([...document.presence.awareness.getStates().keys()]).toEqual([]);
  });

  describe('with frames of 1 KiB', () => {
    const maxFrameBytes = 1024;

    // Found by fuzzing (small-frames): the limit was checked on the JSON as sent, but presence is
    // kept parsed and written again, and `1E20` is written 100000000000000000000: 93 numbers in a
    // state of 372 bytes went out to every other client in an AWARENESS message of 1032 bytes.
    it('refuses with ERROR 3 a presence state that written out again would not fit a frame', async () => {
      const { core } = await startCore({ maxFrameBytes });
      const sender = await join(core, { name: 'ann' });
      const watcher = await join(core, { name: 'bob' });
      const numbers = `[${Array(100).fill('1E20').join(',')}]`;
      sender.transport.deliver({ type: MessageType.Awareness, update: presence([1234, 1, numbers]) });
      await settle();
      expect(sender.transport.refusal?.code).toBe(ErrorCode.ProtocolError);
      expect(watcher.transport.payloads.every((p) => p.length <= maxFrameBytes)).toBe(true);
      expect(presenceEntries(watcher.transport.sent)).toBe(0);
    });

    it('relays a presence update in parts when its states together pass maxFrameBytes', async () => {
      const { core } = await startCore({ maxFrameBytes });
      const sender = await join(core, { name: 'ann' });
      const watcher = await join(core, { name: 'bob' });
      // 1E5 is written 100000: each state doubles, and four of them no longer fit one frame.
      const state = `[${Array(60).fill('1E5').join(',')}]`;
      sender.transport.deliver({
        type: MessageType.Awareness,
        update: presence(...[11, 12, 13, 14].map((id): [number, number, string] => [id, 1, state])),
      });
      await settle();
      expect(sender.transport.refusal).toBeUndefined();
      const late = await join(core, { name: 'cid' });
      for (const { transport } of [watcher, late]) {
        const messages = transport.sent.filter((m) => m.type === MessageType.Awareness).length;
        expect({
          parts: messages > 1,
          entries: presenceEntries(transport.sent),
          fit: transport.payloads.every((p) => p.length <= maxFrameBytes),
        }).toEqual({
          parts: true,
          entries: 4,
          fit: true,
        });
      }
    });
  });
});
