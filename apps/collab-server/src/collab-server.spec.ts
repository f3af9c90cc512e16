import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import {
  encodeMessageFrame,
  ErrorCode,
  makeHello,
  MessageType,
  ReconnectingClient,
  SyncType,
  type ErrorMessage,
} from '@collab/collab-protocol';
import { FaultyFs } from '@collab/persistence/testing';
import { cleanup, connectClient, rawClient, startServer, waitFor } from '../test/harness';

afterEach(cleanup);

const errorOf = (messages: readonly { type: MessageType }[]) => messages.find((m): m is ErrorMessage => m.type === MessageType.Error);

describe('CollabServer', () => {
  it('lets clients on 127.0.0.1 and ::1 edit one document and converge', async () => {
    const { port } = await startServer();
    const a = await connectClient(port, { host: '127.0.0.1', name: 'ann' });
    const b = await connectClient(port, { host: '::1', name: 'bob' });
    a.doc.getText('content').insert(0, 'hello ');
    b.doc.getText('content').insert(0, 'world');
    await waitFor(() => a.text() === b.text() && a.text().length === 11, 'convergence');
    expect(a.text()).toMatch(/hello |world/);
    await a.session.whenSaved();
    await b.session.whenSaved();
  });

  it('acknowledges each change once it is stored, and temp.txt holds the text', async () => {
    const { server, port, dataDir } = await startServer();
    const a = await connectClient(port);
    a.doc.getText('content').insert(0, 'durable line\n');
    await a.session.whenSaved();
    expect(a.session.ackedChanges).toBe(a.session.sentChanges);
    await server.close();
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe('durable line\n');
  });

  it('acknowledges changes stored by one commit with one ACK, and a change sent again after that commit too', async () => {
    const { port } = await startServer();
    const raw = await rawClient(port);
    raw.hello();
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (const letter of 'abcde') doc.getText('content').insert(0, letter);
    const acks = () => raw.messages.filter((m) => m.type === MessageType.Ack).map((m) => (m as { count: number }).count);
    // Five updates in one write: one commit (they share one promise in the log), ACKed up to 5.
    raw.socket.write(Buffer.concat(updates.map((data) => encodeMessageFrame({ type: MessageType.Sync, syncType: SyncType.Update, data }))));
    await waitFor(() => acks().includes(5), 'ACK 5');
    expect(acks().at(-1)).toBe(5);
    // The last update again: it changes nothing, waits on the commit that has settled, and is ACKed.
    raw.send({ type: MessageType.Sync, syncType: SyncType.Update, data: updates[4] });
    await waitFor(() => acks().includes(6), 'ACK 6');
  });

  it('sends the current document to a new client', async () => {
    const { port } = await startServer();
    const a = await connectClient(port);
    a.doc.getText('content').insert(0, 'already here');
    await a.session.whenSaved();
    const b = await connectClient(port);
    expect(b.text()).toBe('already here');
  });

  it('keeps documents apart by name', async () => {
    const { port, dataDir, server } = await startServer();
    const a = await connectClient(port, { document: 'notes' });
    const b = await connectClient(port, { document: 'temp' });
    a.doc.getText('content').insert(0, 'in notes');
    await a.session.whenSaved();
    expect(b.text()).toBe('');
    await server.close();
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('in notes');
  });

  it('unloads a document after its last client leaves and loads it again on demand', async () => {
    const { port, dataDir, lines } = await startServer({ unloadAfterMs: 50 });
    const a = await connectClient(port, { document: 'notes' });
    a.doc.getText('content').insert(0, 'kept on disk');
    await a.session.whenSaved();
    a.close();
    await waitFor(() => lines.includes('[DEBUG] Unloaded document notes'), 'unload');
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('kept on disk');
    const b = await connectClient(port, { document: 'notes' });
    expect(b.text()).toBe('kept on disk');
  });

  it('refuses client 11 with ERROR 1 and the assignment log line', async () => {
    const { port, lines } = await startServer();
    const clients = [];
    for (let i = 0; i < 10; i++) clients.push(await connectClient(port));
    const eleventh = await rawClient(port);
    eleventh.hello();
    await eleventh.closed;
    expect(errorOf(eleventh.messages)).toEqual({ type: MessageType.Error, code: 1, message: 'Server is full. Please try again later.' });
    expect(lines.some((l) => /^\[WARN\] Server full\. Rejected connection from 127\.0\.0\.1:\d+$/.test(l))).toBe(true);
    clients[0]!.doc.getText('content').insert(0, 'still fine');
    await clients[0]!.session.whenSaved();
  });

  it('logs the assignment lines for a client session', async () => {
    const { port, lines } = await startServer();
    const a = await connectClient(port, { host: '::1' });
    const b = await connectClient(port);
    a.doc.getText('content').insert(0, 'hi there');
    await waitFor(() => b.text() === 'hi there', 'relay');
    a.close();
    await waitFor(() => lines.some((l) => l.startsWith('[INFO] Client tester ([::1]:')), 'disconnect line');
    const endpoint = /\[INFO\] New client connected: tester \((\[::1\]:\d+)\)/.exec(lines.join('\n'))![1];
    const aLabel = `tester (${endpoint})`;
    expect(lines).toEqual(
      expect.arrayContaining([
        '[INFO] Created temp.txt',
        expect.stringMatching(/^\[INFO\] Server listening on port \d+$/),
        `[INFO] Accepted connection from ${endpoint}`,
        `[INFO] New client connected: ${aLabel}`,
        `[INFO] Sent current document to client ${aLabel}`,
        `[UPDATE] Document updated by ${aLabel}: hi there`,
        expect.stringMatching(/^\[INFO\] Broadcasted update to client tester \(127\.0\.0\.1:\d+\)$/),
        `[INFO] Client ${aLabel} disconnected`,
      ]),
    );
  });

  it('relays presence and announces its removal when a client leaves', async () => {
    const { port } = await startServer();
    const a = await connectClient(port, { name: 'ann' });
    const b = await connectClient(port, { name: 'bob' });
    a.awareness.setLocalStateField('user', { name: 'ann' });
    await waitFor(() => b.awareness.getStates().get(a.doc.clientID)?.user?.name === 'ann', 'presence relayed');
    a.close();
    await waitFor(() => !b.awareness.getStates().has(a.doc.clientID), 'presence removed');
  });

  it('answers QUERY_AWARENESS and PING', async () => {
    const { port } = await startServer();
    const a = await connectClient(port);
    a.awareness.setLocalStateField('user', { name: 'ann' });
    await new Promise((r) => setTimeout(r, 50));
    const raw = await rawClient(port);
    raw.hello();
    raw.send({ type: MessageType.QueryAwareness });
    raw.send({ type: MessageType.Ping });
    await waitFor(() => raw.messages.some((m) => m.type === MessageType.Pong), 'PONG');
    expect(raw.messages.filter((m) => m.type === MessageType.Awareness).length).toBeGreaterThanOrEqual(1);
    expect(raw.messages[0]).toMatchObject({ type: MessageType.Welcome, document: 'temp', version: 1 });
  });

  it('merges edits made offline when a client reconnects', async () => {
    const { port } = await startServer();
    const a = await connectClient(port);
    const b = await connectClient(port);
    a.doc.getText('content').insert(0, 'base');
    await waitFor(() => b.text() === 'base', 'first sync');
    b.close();
    b.doc.getText('content').insert(4, ' offline');
    a.doc.getText('content').insert(0, 'online ');
    const again = await connectClient(port, { doc: b.doc });
    await again.session.whenSaved();
    await waitFor(() => a.text() === b.text(), 'merge');
    expect(a.text()).toBe('online base offline');
  });

  it('requires the token when one is set', async () => {
    const { port } = await startServer({ token: 's3cret' });
    const wrong = await rawClient(port);
    wrong.hello('temp', 'nope');
    await wrong.closed;
    expect(errorOf(wrong.messages)?.code).toBe(ErrorCode.AuthFailed);
    const right = await connectClient(port, { token: 's3cret' });
    expect(right.session.isSynced).toBe(true);
  });

  it('closes a connection that starts its HELLO but does not finish it in time with ERROR 8', async () => {
    const { port } = await startServer({ handshakeTimeoutMs: 100 });
    const raw = await rawClient(port);
    raw.startFrame();
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(ErrorCode.Timeout);
  });

  it('closes an idle client with ERROR 8', async () => {
    const { port } = await startServer({ idleTimeoutMs: 150 });
    const raw = await rawClient(port);
    raw.hello();
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(ErrorCode.Timeout);
  });

  it('drops a client that does not read, and the others go on', async () => {
    const { port, lines } = await startServer({ maxSendBufferBytes: 256 * 1024 });
    const writer = await connectClient(port);
    const reader = await connectClient(port);
    const stuck = await rawClient(port);
    stuck.hello();
    await waitFor(() => stuck.messages.length > 0, 'welcome');
    stuck.socket.pause();
    const text = writer.doc.getText('content');
    for (let i = 0; i < 200 && !lines.some((l) => l.includes('is not reading')); i++) {
      text.insert(text.length, 'x'.repeat(64 * 1024));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => lines.some((l) => l.includes('is not reading')), 'slow client dropped', 20_000);
    await writer.session.whenSaved();
    await waitFor(() => reader.text().length === text.length, 'reader kept up', 20_000);
  }, 30_000);

  it('sends ERROR 9 to clients on shutdown after storing everything', async () => {
    const { server, port, dataDir } = await startServer();
    const raw = await rawClient(port);
    raw.hello();
    const a = await connectClient(port);
    a.doc.getText('content').insert(0, 'last words');
    await a.session.whenSaved();
    await server.close();
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(ErrorCode.ShuttingDown);
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe('last words');
  });

  it('loads an existing temp.txt and says so', async () => {
    const first = await startServer();
    const a = await connectClient(first.port);
    a.doc.getText('content').insert(0, 'from before');
    await a.session.whenSaved();
    await first.server.close();
    const second = await startServer({ dataDir: first.dataDir });
    expect(second.lines).toContain('[INFO] Loaded existing content from temp.txt');
    const b = await connectClient(second.port);
    expect(b.text()).toBe('from before');
  });
});

describe('CollabServer against connections that say nothing', () => {
  // A connection that says nothing at all is a plain-text client after 300 ms (test/plain-text.spec.ts
  // covers those); these stall inside their HELLO, having sent its first byte.
  it('lets a normal client edit while 1,000 connections from one address stall in their HELLO', async () => {
    const { port, lines } = await startServer();
    const silent = [];
    for (let i = 0; i < 1000; i++) {
      const raw = await rawClient(port, '127.0.0.1');
      raw.startFrame();
      silent.push(raw);
    }
    // The per-address limit (64) bites: the rest were refused at once.
    expect(lines.some((l) => l.startsWith('[WARN] Too many connections from 127.0.0.1 (limit 64)'))).toBe(true);
    const a = await connectClient(port, { host: '::1' });
    a.doc.getText('content').insert(0, 'still editing');
    await a.session.whenSaved();
    for (const s of silent) s.socket.destroy();
  }, 60_000);

  it('lets a normal client edit while 1,000 connections stall in their HELLO, with no per-address limit', async () => {
    const { port } = await startServer({ maxConnectionsPerAddress: 0 });
    const silent = [];
    for (let i = 0; i < 1000; i++) {
      const raw = await rawClient(port, i % 2 ? '::1' : '127.0.0.1');
      raw.startFrame();
      silent.push(raw);
    }
    const a = await connectClient(port);
    const b = await connectClient(port, { host: '::1' });
    a.doc.getText('content').insert(0, 'still editing');
    await a.session.whenSaved();
    await waitFor(() => b.text() === 'still editing', 'relay despite the silent crowd');
    for (const s of silent) s.socket.destroy();
  }, 60_000);

  it('lets clients join and edit while 1,000 connections send their HELLO one byte a second', async () => {
    const { port, server } = await startServer({ maxConnectionsPerAddress: 0 });
    const hello = encodeMessageFrame(makeHello({ document: 'temp', clientName: 'slow', token: '' }));
    const slow: Array<Awaited<ReturnType<typeof rawClient>>> = [];
    // The first byte at once (a connection silent for 300 ms would be a plain-text client), then one a second.
    for (let i = 0; i < 1000; i++) {
      const raw = await rawClient(port, i % 2 ? '::1' : '127.0.0.1');
      raw.socket.write(hello.subarray(0, 1));
      slow.push(raw);
    }
    let sent = 1;
    const drip = setInterval(() => {
      if (sent < hello.length - 1) for (const c of slow) if (!c.socket.destroyed) c.socket.write(hello.subarray(sent, sent + 1));
      sent++;
    }, 1000);
    try {
      // Bounded: six seconds of dripping (6,000 one-byte writes), while two clients come and edit.
      const a = await connectClient(port);
      await new Promise((r) => setTimeout(r, 2500));
      const b = await connectClient(port, { host: '::1' });
      for (let k = 0; k < 20; k++) a.doc.getText('content').insert(0, 'x');
      await a.session.whenSaved();
      await waitFor(() => b.text() === 'x'.repeat(20), 'relay while 1,000 connections drip');
      await new Promise((r) => setTimeout(r, Math.max(0, 6000 - sent * 1000)));
      expect(sent).toBeGreaterThanOrEqual(5);
      expect(server.clientCount).toBe(2);
    } finally {
      clearInterval(drip);
      for (const c of slow) c.socket.destroy();
    }
  }, 60_000);

  it('does not count connections waiting for HELLO as clients, and closes the oldest past the limit', async () => {
    const { port } = await startServer({ maxClients: 2, maxPendingHandshakes: 3 });
    const waiting = [];
    for (let i = 0; i < 4; i++) {
      const raw = await rawClient(port);
      raw.startFrame();
      waiting.push(raw);
    }
    await waiting[0]!.closed;
    expect(errorOf(waiting[0]!.messages)?.code).toBe(ErrorCode.Timeout);
    const a = await connectClient(port);
    const b = await connectClient(port);
    expect(a.session.isSynced && b.session.isSynced).toBe(true);
    // Now full: a waiting connection that says HELLO is refused with ERROR 1.
    waiting[3]!.hello();
    await waiting[3]!.closed;
    expect(errorOf(waiting[3]!.messages)?.code).toBe(ErrorCode.ServerFull);
  });
});

describe('CollabServer limits', () => {
  it('refuses an edit that would pass the maximum document size with ERROR 10, the document unchanged', async () => {
    const { port, lines } = await startServer({ maxDocumentChars: 20 });
    const a = await connectClient(port);
    a.doc.getText('content').insert(0, 'short');
    await a.session.whenSaved();
    const raw = await rawClient(port);
    raw.hello();
    const other = new Y.Doc();
    other.getText('content').insert(0, 'this is far too long for the limit');
    raw.send({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(other) });
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(ErrorCode.DocumentTooLarge);
    expect(lines.some((l) => l.includes('would pass 20 characters'))).toBe(true);
    const b = await connectClient(port);
    expect(b.text()).toBe('short');
  });

  it('refuses edits with ERROR 7 while the disk fails, loses nothing acknowledged, and stores everything once it works again', async () => {
    const faulty = new FaultyFs();
    const { port, server, dataDir } = await startServer({ storageFs: faulty });
    const a = await connectClient(port);
    a.doc.getText('content').insert(0, 'safe ');
    await a.session.whenSaved();
    faulty.fail({ op: 'write', errno: 'ENOSPC', partial: true });
    a.doc.getText('content').insert(5, 'lost?');
    await new Promise<void>((resolve) => a.session.once('end', () => resolve()));
    expect(a.session.isSaved).toBe(false);
    // A client that sends the same edit again (as on reconnect) must not be ACKed while the disk is full.
    const again = await connectClient(port, { doc: a.doc });
    await new Promise<void>((resolve) => again.session.once('end', () => resolve()));
    expect(again.session.isSaved).toBe(false);
    faulty.heal();
    const healed = await connectClient(port, { doc: a.doc });
    await healed.session.whenSaved();
    await server.close();
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe('safe lost?');
  });

  it('refuses a document past the maximum number open, with ERROR 1', async () => {
    const { port, lines } = await startServer({ maxDocuments: 2 }); // temp is one of them
    await connectClient(port, { document: 'one' });
    const raw = await rawClient(port);
    raw.hello('two');
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(ErrorCode.ServerFull);
    expect(lines.some((l) => l.includes('2 documents are open (the limit); refused to open two'))).toBe(true);
  });

  it('refuses connections past the per-address limit and keeps the others', async () => {
    const { port } = await startServer({ maxConnectionsPerAddress: 2 });
    const a = await connectClient(port, { host: '127.0.0.1' });
    await connectClient(port, { host: '127.0.0.1' });
    const third = await rawClient(port, '127.0.0.1');
    third.hello();
    await third.closed;
    expect(errorOf(third.messages)).toMatchObject({
      code: ErrorCode.ServerFull,
      message: 'Too many connections from 127.0.0.1. Please try again later.',
    });
    const fromV6 = await connectClient(port, { host: '::1' });
    a.doc.getText('content').insert(0, 'x');
    await waitFor(() => fromV6.text() === 'x', 'relay');
  });

  it('slows a client past the edit rate down instead of dropping it, and stores every edit', async () => {
    const { port, lines } = await startServer({ maxEditsPerSecond: 50 });
    const a = await connectClient(port);
    const text = a.doc.getText('content');
    for (let i = 0; i < 300; i++) text.insert(text.length, 'k');
    await a.session.whenSaved();
    expect(lines.some((l) => /sends more than 50 edits a second; reading from it more slowly/.test(l))).toBe(true);
    expect(a.session.isEnded).toBe(false);
    const b = await connectClient(port);
    expect(b.text()).toBe('k'.repeat(300));
  }, 30_000);
});

describe('CollabSession', () => {
  it("holds local edits back until it has answered the server's sync step 1, and sends them in its step 2", async () => {
    const { port } = await startServer();
    const a = await connectClient(port, { wait: false });
    a.doc.getText('content').insert(0, 'typed at once');
    expect(a.session.isSaved).toBe(false);
    await a.session.whenSaved();
    // One change frame: the step 2, which carried the edit.
    expect(a.session.sentChanges).toBe(1);
    const b = await connectClient(port);
    expect(b.text()).toBe('typed at once');
  });
});

describe('ReconnectingClient', () => {
  it('shares one waiter among every pending whenSaved() call, and settles them all', async () => {
    const { port } = await startServer();
    const doc = new Y.Doc();
    const client = new ReconnectingClient({
      document: 'temp',
      clientName: 'writer',
      doc,
      connect: async () => {
        const socket = connect({ host: '127.0.0.1', port });
        await once(socket, 'connect');
        return socket;
      },
    });
    try {
      await client.start();
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const saves: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        doc.getText('content').insert(0, `${i} `);
        saves.push(client.whenSaved());
      }
      expect(client.listenerCount('saved')).toBeLessThanOrEqual(1);
      await Promise.all(saves);
      process.off('warning', onWarning);
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
      expect(client.isSaved).toBe(true);
      expect(client.listenerCount('saved')).toBe(0);
    } finally {
      client.stop();
    }
  });
});

describe('CollabServer bad input', () => {
  async function withBystander() {
    const srv = await startServer();
    const bystander = await connectClient(srv.port);
    let n = 0;
    const keepEditing = async () => {
      bystander.doc.getText('content').insert(bystander.text().length, `${n++},`);
      await bystander.session.whenSaved();
    };
    await keepEditing();
    return { ...srv, bystander, keepEditing };
  }

  const cases: Array<[string, (raw: Awaited<ReturnType<typeof rawClient>>) => void, ErrorCode]> = [
    ['a zero-length frame', (raw) => raw.socket.write(Buffer.from([0, 0, 0, 0])), ErrorCode.ProtocolError],
    [
      'a header announcing more than the maximum frame',
      (raw) => raw.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])),
      ErrorCode.FrameTooLarge,
    ],
    ['an unknown message type', (raw) => raw.socket.write(Buffer.from([0, 0, 0, 1, 50])), ErrorCode.ProtocolError],
    ['a message before HELLO', (raw) => raw.send({ type: MessageType.Ping }), ErrorCode.ProtocolError],
    [
      'an unsupported protocol version',
      (raw) => raw.send({ type: MessageType.Hello, version: 9, document: 'temp', clientName: 'x', token: '' }),
      ErrorCode.UnsupportedVersion,
    ],
    ['a document name that escapes the data directory', (raw) => raw.hello('../etc/passwd'), ErrorCode.BadDocumentName],
    ['a second HELLO', (raw) => (raw.hello(), raw.hello()), ErrorCode.ProtocolError],
    [
      'an undecodable Yjs update',
      (raw) => (
        raw.hello(),
        raw.send({ type: MessageType.Sync, syncType: SyncType.Update, data: Uint8Array.from([200, 1, 2, 3, 4, 5, 6, 7]) })
      ),
      ErrorCode.ProtocolError,
    ],
    ['a server-to-client message type', (raw) => (raw.hello(), raw.send({ type: MessageType.Ack, count: 1 })), ErrorCode.ProtocolError],
  ];

  it.each(cases)('answers %s with the matching ERROR and leaves the others undisturbed', async (_name, misbehave, code) => {
    const { port, bystander, keepEditing } = await withBystander();
    const before = bystander.text();
    const raw = await rawClient(port);
    misbehave(raw);
    await raw.closed;
    expect(errorOf(raw.messages)?.code).toBe(code);
    expect(bystander.text()).toBe(before);
    await keepEditing();
    expect(bystander.session.isEnded).toBe(false);
  });

  it('survives random bytes from many connections', async () => {
    const { port, bystander, keepEditing } = await withBystander();
    for (let i = 0; i < 30; i++) {
      const raw = await rawClient(port);
      const junk = Buffer.from(Array.from({ length: 1 + ((i * 37) % 200) }, (_, k) => (k * 131 + i * 17) & 0xff));
      raw.socket.end(junk);
      await raw.closed;
      await keepEditing();
    }
    const fresh = await connectClient(port);
    expect(fresh.text()).toBe(bystander.text());
  });

  it('keeps the document unchanged by a refused update', async () => {
    const { port, bystander } = await withBystander();
    const raw = await rawClient(port);
    raw.hello();
    const other = new Y.Doc();
    other.getText('content').insert(0, 'sneaky');
    const good = Y.encodeStateAsUpdate(other);
    const broken = good.slice(0, good.length - 3);
    raw.send({ type: MessageType.Sync, syncType: SyncType.Update, data: broken });
    await raw.closed;
    expect(bystander.text()).not.toContain('sneaky');
  });
});
