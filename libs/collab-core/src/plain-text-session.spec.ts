import * as Y from 'yjs';
import { ErrorCode, MessageType, QUIET_MS, SyncType, makeHello, type Message } from '@collab/collab-protocol';
import { CollabCore } from './collab-core';
import { MemoryStorage } from './memory-storage';
import { UNTERMINATED_LINE_MS } from './plain-text-session';
import type { CoreSettings } from './settings';
import { TEXT_NAME } from './shared-document';
import { MemoryTextTransport, MemoryTransport, captureLogger } from './testing';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until check() holds (timers are late on a busy machine: no fixed sleeps for what must happen). */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
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

/** A plain-text client, connected and (without a token) sent the document. */
async function textClient(core: CollabCore, address = '127.0.0.1'): Promise<MemoryTextTransport> {
  const transport = new MemoryTextTransport(address);
  transport.connection = core.connectText(transport);
  await settle();
  return transport;
}

/** A framed client that said HELLO and answered the server's step 1, with its own Y.Doc kept in sync. */
async function framedClient(core: CollabCore, name = 'ann') {
  const transport = new MemoryTransport();
  transport.connection = core.connect(transport);
  const doc = new Y.Doc();
  transport.deliver(makeHello({ document: 'temp', clientName: name, token: core.settings.token }));
  await settle();
  transport.deliver({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(doc) });
  await settle();
  let applied = 0;
  const catchUp = () => {
    for (const m of transport.sent.slice(applied))
      if (m.type === MessageType.Sync && m.syncType !== SyncType.Step1) Y.applyUpdate(doc, m.data);
    applied = transport.payloads.length;
  };
  catchUp();
  /** Makes a change in the client's doc and sends it, as an editor would. */
  const change = async (edit: (text: Y.Text) => void) => {
    catchUp();
    const before = Y.encodeStateVector(doc);
    edit(doc.getText(TEXT_NAME));
    transport.deliver({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(doc, before) });
    await settle();
  };
  return { transport, doc, change, text: () => (catchUp(), doc.getText(TEXT_NAME).toString()) };
}

const errorOf = (messages: Message[]) =>
  messages.find((m) => m.type === MessageType.Error) as Extract<Message, { type: MessageType.Error }> | undefined;

async function storedText(storage: MemoryStorage, core: CollabCore): Promise<string> {
  const document = await core.documents.loaded('temp');
  await document?.settled();
  return storage.load('temp').getText(TEXT_NAME).toString();
}

describe('PlainTextSession', () => {
  it('is sent the whole document on connect, and logged with the assignment lines', async () => {
    const { core, lines } = await startCore();
    await core.edit('temp', 'file', (text) => text.insert(0, 'first line\nsecond, unfinished'));
    const client = await textClient(core);
    expect(client.output).toBe('first line\nsecond, unfinished\n');
    const label = `text (${client.remoteLabel})`;
    expect(lines).toEqual(
      expect.arrayContaining([
        `[INFO] Accepted connection from ${client.remoteLabel}`,
        `[INFO] New client connected: ${label}`,
        `[INFO] Sent current document to client ${label}`,
      ]),
    );
    expect(core.clientCount).toBe(1);
    client.hangUp();
    await settle();
    expect(lines).toContain(`[INFO] Client ${label} disconnected`);
    expect(core.clientCount).toBe(0);
  });

  it('appends each line as a new line: stored, relayed to framed clients, and logged as its edit', async () => {
    const { core, storage, lines } = await startCore();
    const ann = await framedClient(core);
    const client = await textClient(core);
    client.type('hello from nc\nand a second line\n');
    await settle();
    expect(await storedText(storage, core)).toBe('hello from nc\nand a second line\n');
    expect(ann.text()).toBe('hello from nc\nand a second line\n');
    const label = `text (${client.remoteLabel})`;
    expect(lines).toContain(`[UPDATE] Document updated by ${label}: hello from nc\\nand a second line`);
    expect(lines.some((l) => l.startsWith('[INFO] Broadcasted update to client ann ('))).toBe(true);
    // Its own lines are never sent back to it.
    expect(client.output).toBe('');
  });

  it('puts a line after a document that does not end with a line break on a line of its own', async () => {
    const { core, storage } = await startCore();
    await core.edit('temp', 'file', (text) => text.insert(0, 'no break at the end'));
    const client = await textClient(core);
    client.type('mine\n');
    await settle();
    expect(await storedText(storage, core)).toBe('no break at the end\nmine\n');
  });

  it("takes bytes with no line break as a line once they are followed by silence (the assignment's client)", async () => {
    const { core, storage } = await startCore();
    const client = await textClient(core);
    client.type('typed in client.py');
    await settle();
    expect(await storedText(storage, core)).toBe('');
    await until(async () => (await storedText(storage, core)) === 'typed in client.py\n', `the line, after ${UNTERMINATED_LINE_MS} ms`);
    client.type('and another');
    await until(async () => (await storedText(storage, core)) === 'typed in client.py\nand another\n', 'the second line');
  });

  it('waits for the line break of a client that sends them (nc, telnet), and takes the rest at the end of input', async () => {
    const { core, storage } = await startCore();
    const client = await textClient(core);
    client.type('whole\nhal');
    await sleep(UNTERMINATED_LINE_MS * 2);
    expect(await storedText(storage, core)).toBe('whole\n'); // "hal" waits for its line break
    client.type('f\nno break at the end');
    client.end();
    await settle();
    expect(await storedText(storage, core)).toBe('whole\nhalf\nno break at the end\n');
  });

  it('sends others a line appended at the end as it is, and a change elsewhere with its line number', async () => {
    const { core } = await startCore();
    await core.edit('temp', 'file', (text) => text.insert(0, 'one\ntwo\n'));
    const ann = await framedClient(core);
    const client = await textClient(core);
    client.output = '';
    await ann.change((text) => text.insert(text.length, 'three, from ann\n'));
    expect(client.output).toBe('three, from ann\n');
    const started = Date.now();
    await ann.change((text) => text.insert(3, ' (edited)'));
    await until(() => client.output === 'three, from ann\n(line 1): one (edited)\n', 'the changed line');
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUIET_MS - 50); // once it has been still for a second
    await ann.change((text) => text.delete(text.toString().indexOf('two'), 4));
    // Changes that end no line are looked at together, every 0.1 s.
    await until(() => client.output === 'three, from ann\n(line 1): one (edited)\n(line 2 deleted): two\n', 'the deleted line');
  });

  it("leaves framed clients' changes relayed and logged as before (its observer reads event.delta, which opens an empty transaction)", async () => {
    const { core, lines } = await startCore();
    const ann = await framedClient(core, 'ann');
    const bob = await framedClient(core, 'bob');
    const client = await textClient(core);
    await ann.change((text) => text.insert(0, 'from ann\n'));
    expect(client.output).toBe('from ann\n');
    expect(bob.text()).toBe('from ann\n');
    expect(lines.some((l) => /^\[UPDATE\] Document updated by ann \(127\.0\.0\.1:\d+\): from ann$/.test(l))).toBe(true);
    expect(lines.filter((l) => l.startsWith('[INFO] Broadcasted update to client'))).toHaveLength(2);
  });

  it('tells others keystrokes as one line once Enter ends it', async () => {
    const { core } = await startCore();
    const ann = await framedClient(core);
    const client = await textClient(core);
    for (const c of 'typed') await ann.change((text) => text.insert(text.length, c));
    expect(client.output).toBe('');
    await ann.change((text) => text.insert(text.length, '\n'));
    expect(client.output).toBe('typed\n');
  });

  it('refuses a line too long, not UTF-8 or with control characters in a line of its own, and goes on', async () => {
    const { core, storage } = await startCore({ maxLineBytes: 64 });
    const client = await textClient(core);
    client.type(`${'x'.repeat(100)}\n`);
    client.type(Uint8Array.from([0x66, 0xff, 0x0a]));
    client.type('arrow \u001b[D key\n');
    client.type('fine\n');
    await settle();
    expect(client.output).toBe(
      'Error: a line may hold at most 64 bytes; a longer one was not added.\n' +
        'Error: a line that is not UTF-8 text was not added.\n' +
        'Error: a line with control characters (only tab is allowed) was not added.\n',
    );
    expect(await storedText(storage, core)).toBe('fine\n');
    expect(client.closed).toBe(false);
  });

  it('adds no line past maxDocumentChars, and says so', async () => {
    const { core, storage } = await startCore({ maxDocumentChars: 20 });
    const client = await textClient(core);
    client.type('0123456789\nabcdefghijklmnop\n');
    await settle();
    expect(await storedText(storage, core)).toBe('0123456789\n');
    expect(client.output).toBe('Error: the document may hold at most 20 characters: a line was not added.\n');
  });

  it('counts against maxClients: a full server says "Server is full. Please try again later." as text', async () => {
    const { core, lines } = await startCore({ maxClients: 1 });
    const first = await textClient(core);
    const second = await textClient(core);
    expect(second.closed).toBe(true);
    expect(second.output).toBe('Server is full. Please try again later.\n');
    expect(lines).toContain(`[WARN] Server full. Rejected connection from ${second.remoteLabel}`);
    const framed = new MemoryTransport();
    framed.connection = core.connect(framed);
    expect(errorOf(framed.sent)?.code).toBe(ErrorCode.ServerFull);
    first.hangUp();
    await settle();
    const third = await textClient(core);
    expect(third.closed).toBe(false);
  });

  it('counts against the per-address limit', async () => {
    const { core } = await startCore({ maxConnectionsPerAddress: 1 });
    await textClient(core);
    const second = await textClient(core);
    expect(second.output).toBe('Too many connections from 127.0.0.1. Please try again later.\n');
    const fromV6 = await textClient(core, '::1');
    expect(fromV6.closed).toBe(false);
  });

  it('takes the place of the framed session its connection started as, without a word', async () => {
    const { core, lines } = await startCore({ maxConnectionsPerAddress: 1 });
    const framed = new MemoryTransport();
    const started = core.connect(framed)!;
    const client = new MemoryTextTransport();
    client.connection = core.connectText(client, { replacing: started });
    await settle();
    expect(client.closed).toBe(false);
    expect(framed.payloads).toEqual([]);
    expect(core.connectionCount).toBe(1);
    expect(lines.filter((l) => l.startsWith('[INFO] Accepted connection from'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('closed'))).toBe(false);
  });

  it('closes a client silent for the idle timeout, saying why', async () => {
    const { core } = await startCore({ idleTimeoutMs: 100 });
    const client = await textClient(core);
    await until(() => client.closed, 'the idle timeout');
    expect(client.farewell).toBe('Nothing received for 0.1 s; closing the connection.\n');
  });

  it('says the server is shutting down', async () => {
    const { core } = await startCore();
    const client = await textClient(core);
    await core.close();
    expect(client.farewell).toBe('The server is shutting down.\n');
  });

  it('closes, saying so, when its lines cannot be stored', async () => {
    const { core, storage } = await startCore();
    const client = await textClient(core);
    storage.failAppends = true;
    client.type('lost?\n');
    await settle();
    expect(client.farewell).toMatch(/^The server cannot store edits right now \(.*\); the last lines you sent are not stored yet\.\n$/);
  });
});

describe('PlainTextSession with a token', () => {
  it('asks for AUTH <token> first, then is sent the document and appends', async () => {
    const { core, storage } = await startCore({ token: 's3cret' });
    await core.edit('temp', 'file', (text) => text.insert(0, 'secret doc\n'));
    const client = await textClient(core);
    expect(client.output).toBe('This server needs a token: send AUTH <token> as the first line.\n');
    expect(core.clientCount).toBe(0);
    client.type('AUTH s3cret\nright after\n');
    await settle();
    expect(client.output).toBe('This server needs a token: send AUTH <token> as the first line.\nsecret doc\n');
    expect(await storedText(storage, core)).toBe('secret doc\nright after\n');
    expect(core.clientCount).toBe(1);
  });

  it('closes after one line of error for a wrong token or a first line that is not AUTH', async () => {
    const { core } = await startCore({ token: 's3cret' });
    const wrong = await textClient(core);
    wrong.type('AUTH guess\n');
    await settle();
    expect(wrong.farewell).toBe('Authentication failed: wrong token.\n');
    const missing = await textClient(core);
    missing.type('hello?\n');
    await settle();
    expect(missing.farewell).toBe('Authentication failed: this server needs a token, and the first line must be AUTH <token>.\n');
  });

  it('makes an address that keeps sending wrong tokens wait, as framed clients must', async () => {
    const { core, lines } = await startCore({ token: 's3cret', authFailuresAllowed: 1 });
    for (const guess of ['a', 'b']) {
      const client = await textClient(core);
      client.type(`AUTH ${guess}\n`);
      await settle();
    }
    expect(lines.some((l) => /Wrong token from 127\.0\.0\.1:\d+; 127\.0\.0\.1 must wait 1 s/.test(l))).toBe(true);
    const right = await textClient(core);
    right.type('AUTH s3cret\n');
    await settle();
    expect(right.farewell).toBe('Too many wrong tokens from 127.0.0.1; try again in 1 s.\n');
  });

  it('does not count a connection waiting for its AUTH line as a client', async () => {
    const { core } = await startCore({ token: 's3cret', maxClients: 1, handshakeTimeoutMs: 150 });
    const waiting = await textClient(core);
    const ann = await framedClient(core);
    expect(ann.transport.sent[0]).toMatchObject({ type: MessageType.Welcome });
    await until(() => waiting.closed, 'the handshake timeout');
    expect(waiting.farewell).toBe('No AUTH line within 0.15 s; closing the connection.\n');
  });
});
