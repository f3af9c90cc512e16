// Issue 12, crashes and lock-outs: crafted bytes on real sockets against the built server.
// Whatever the server has acknowledged it can send; presence states are bounded when they
// arrive; a client update may only edit the text, and a refused one leaves no trace; a bug
// while handling one message closes that client, anything else stops the process (exit 1).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as Y from 'yjs';
import { ErrorCode, MessageType } from '@collab/collab-protocol';
import { logLines, startBuiltServer, stopAll, type BuiltServer } from './built-server';
import { deepJsonUpdate, framed, nestedArraysJson, nonTextUpdates, presenceMessage, unmergeableItemsUpdate } from './crafted-bytes';
import { WireClient, closeAllClients } from './wire-client';

jest.setTimeout(60_000);

afterEach(async () => {
  closeAllClients();
  await stopAll();
});

const MiB = 1024 * 1024;

/** The server is up and the document editable: a fresh client appends and another sees it. */
async function stillServes(server: BuiltServer, watcher: WireClient, text: string): Promise<void> {
  const writer = await WireClient.join(server.port, { name: 'checker' });
  await writer.append(text);
  await watcher.waitFor(() => watcher.text().endsWith(text), `"${text}" at the watcher`);
  writer.destroy();
}

describe('a state larger than one frame', () => {
  it('sends 9 M acknowledged characters to a joiner in parts, and again after a restart from its files', async () => {
    const server = await startBuiltServer();
    const writer = await WireClient.join(server.port, { name: 'writer' });
    const chunk = 'é'.repeat(1_000_000);
    for (let i = 0; i < 9; i++) await writer.append(chunk, 30_000);
    const expected = chunk.repeat(9);

    const joiner = await WireClient.join(server.port, { name: 'joiner', timeoutMs: 30_000 });
    expect(joiner.text().length).toBe(9_000_000);
    expect(joiner.text() === expected).toBe(true);
    expect(joiner.largestFrame).toBeLessThanOrEqual(16 * MiB);
    expect(joiner.error()).toBeUndefined();
    // The writer goes on editing and the joiner sees it.
    await writer.append('!');
    await joiner.waitFor(() => joiner.text().endsWith('!'), 'the next edit');

    writer.destroy();
    joiner.destroy();
    expect(await server.stop()).toBe(0);
    const again = await startBuiltServer({ dataDir: server.dataDir });
    const late = await WireClient.join(again.port, { name: 'late', timeoutMs: 30_000 });
    expect(late.text() === `${expected}!`).toBe(true);
    expect(late.largestFrame).toBeLessThanOrEqual(16 * MiB);
  });

  it('accepts an 18 MB update under --max-frame 64MiB, relays it, and sends it to joiners after a restart', async () => {
    const args = ['--max-frame', String(64 * MiB)];
    const server = await startBuiltServer({ args });
    const watcher = await WireClient.join(server.port, { name: 'watcher' });
    const writer = await WireClient.join(server.port, { name: 'writer' });
    const text = 'é'.repeat(9_000_000);
    await writer.append(text, 30_000);
    await watcher.waitFor(() => watcher.text().length === text.length, 'the relayed 18 MB update', 30_000);
    expect(writer.error()).toBeUndefined();

    writer.destroy();
    watcher.destroy();
    expect(await server.stop()).toBe(0);
    const again = await startBuiltServer({ dataDir: server.dataDir, args });
    const joiner = await WireClient.join(again.port, { name: 'joiner', timeoutMs: 30_000 });
    expect(joiner.text() === text).toBe(true);
    await stillServes(again, joiner, 'more');
  });
});

describe('presence states', () => {
  it('refuses a presence state larger than --max-presence-bytes with ERROR 3, and serves the others', async () => {
    const server = await startBuiltServer();
    const watcher = await WireClient.join(server.port, { name: 'watcher' });
    // Presence states just under the limit are fine, several of them.
    const ok = JSON.stringify({ user: { name: 'ann', pad: 'x'.repeat(16 * 1024 - 40) } });
    expect(Buffer.byteLength(ok)).toBeLessThanOrEqual(16 * 1024);
    for (let i = 0; i < 3; i++) {
      const peer = await WireClient.join(server.port, { name: `peer${i}` });
      peer.sendRaw(framed(presenceMessage([{ id: 500 + i, clock: 1, json: ok }])));
    }
    // 16 KiB + 1, and 9 MB: refused.
    for (const size of [16 * 1024 + 1, 9_000_000]) {
      const big = await WireClient.join(server.port, { name: `big${size}` });
      big.sendRaw(framed(presenceMessage([{ id: 900, clock: 1, json: JSON.stringify('x'.repeat(size)) }])));
      const error = await big.refusal();
      expect(error.code).toBe(ErrorCode.ProtocolError);
      expect(error.message).toMatch(/at most 16384 bytes/);
      await server.waitForOutput(new RegExp(`\\[WARN\\] Sent ERROR 3 to client big${size} \\(127\\.0\\.0\\.1:\\d+\\)`));
    }
    // A joiner gets the three states that were allowed, and QUERY_AWARENESS works.
    const joiner = await WireClient.join(server.port, { name: 'joiner' });
    await joiner.waitFor(() => joiner.messages.some((m) => m.type === MessageType.Awareness), 'presence at join');
    joiner.send({ type: MessageType.QueryAwareness });
    await joiner.waitFor(() => joiner.messages.filter((m) => m.type === MessageType.Awareness).length >= 2, 'the QUERY_AWARENESS answer');
    await stillServes(server, watcher, 'after the big presence');
  });

  it('refuses presence nested deeper than 16 with ERROR 3, also when it is small enough, and QUERY_AWARENESS and joins keep working', async () => {
    const server = await startBuiltServer({ args: ['--max-presence-bytes', String(1024 * 1024)] });
    const watcher = await WireClient.join(server.port, { name: 'watcher' });
    const shallow = await WireClient.join(server.port, { name: 'shallow' });
    shallow.sendRaw(framed(presenceMessage([{ id: 400, clock: 1, json: `{"cursor":${nestedArraysJson(15)}}` }])));
    for (const [name, json] of [
      ['deep17', nestedArraysJson(17)],
      ['deep10000', nestedArraysJson(10_000)],
      ['deepObjects', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)],
    ]) {
      const deep = await WireClient.join(server.port, { name });
      deep.sendRaw(framed(presenceMessage([{ id: 401, clock: 1, json }])));
      const error = await deep.refusal();
      expect(error.code).toBe(ErrorCode.ProtocolError);
      expect(error.message).toMatch(/at most 16 deep/);
      await server.waitForOutput(new RegExp(`\\[WARN\\] Sent ERROR 3 to client ${name} `));
    }
    watcher.send({ type: MessageType.QueryAwareness });
    await watcher.waitFor(() => watcher.messages.filter((m) => m.type === MessageType.Awareness).length >= 2, 'QUERY_AWARENESS');
    const joiner = await WireClient.join(server.port, { name: 'joiner' });
    await joiner.waitFor(() => joiner.messages.some((m) => m.type === MessageType.Awareness), 'presence at join');
    expect(shallow.closed).toBe(false);
    await stillServes(server, watcher, 'after the deep presence');
  });
});

describe('client updates may only edit the text', () => {
  it('refuses every update that changes anything but the text with ERROR 3, leaving no trace in the document, the peers or the files', async () => {
    const server = await startBuiltServer();
    const watcher = await WireClient.join(server.port, { name: 'watcher' });
    const writer = await WireClient.join(server.port, { name: 'writer' });
    await writer.append('before\n');
    await watcher.waitFor(() => watcher.text() === 'before\n', 'the first edit');
    const log = join(server.dataDir, 'temp.log');
    const logBytes = statSync(log).size;
    const watcherMessages = watcher.messages.length;

    for (const { what, update } of nonTextUpdates()) {
      const attacker = await WireClient.join(server.port, { name: 'attacker' });
      attacker.sendUpdate(update);
      const error = await attacker.refusal();
      expect([what, error.code]).toEqual([what, ErrorCode.ProtocolError]);
      // A later joiner is served whole (this one failed with "state vector could not be decoded").
      const joiner = await WireClient.join(server.port, { name: 'joiner' });
      expect([what, joiner.text(), joiner.error()]).toEqual([what, 'before\n', undefined]);
      joiner.destroy();
    }
    expect(logLines(server, /\[WARN\] Refused an edit of client attacker \(127\.0\.0\.1:\d+\) to temp:/)).toHaveLength(
      nonTextUpdates().length,
    );
    // 200 binary values of 256 KB sent in a row on one connection: the first is refused, the rest never read.
    const flood = await WireClient.connect(server.port);
    flood.hello('temp', 'flood');
    const blobs = nonTextUpdates()[1].update;
    for (let i = 0; i < 200 && !flood.closed; i++) {
      if (!flood.sendRaw(framed(Buffer.concat([Buffer.from([MessageType.Sync, 2]), lengthPrefixed(blobs)])))) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect((await flood.refusal()).code).toBe(ErrorCode.ProtocolError);

    // Nothing reached the watcher, the log, or (after a restart) the document.
    expect(watcher.messages.slice(watcherMessages).filter((m) => m.type === MessageType.Sync)).toEqual([]);
    expect(statSync(log).size).toBe(logBytes);
    expect(clientsInLog(log).filter((id) => id >= 1000 && id < 1100)).toEqual([]);
    await stillServes(server, watcher, 'after');
    watcher.destroy();
    writer.destroy();
    expect(await server.stop()).toBe(0);
    expect(readFileSync(join(server.dataDir, 'temp.txt'), 'utf8')).toBe('before\nafter');
    const again = await startBuiltServer({ dataDir: server.dataDir });
    const joiner = await WireClient.join(again.port);
    expect(joiner.text()).toBe('before\nafter');
    expect([...joiner.doc.share.keys()]).toEqual(['content']);
  });

  it('refuses the 10,000-deep JSON item and then serves a joiner and a QUERY_AWARENESS as before', async () => {
    const server = await startBuiltServer();
    const peer = await WireClient.join(server.port, { name: 'peer' });
    const attacker = await WireClient.join(server.port, { name: 'attacker' });
    attacker.sendUpdate(deepJsonUpdate(10_000));
    expect((await attacker.refusal()).code).toBe(ErrorCode.ProtocolError);
    const joiner = await WireClient.join(server.port, { name: 'joiner' });
    joiner.send({ type: MessageType.QueryAwareness });
    joiner.send({ type: MessageType.Ping });
    await joiner.waitFor(() => joiner.messages.some((m) => m.type === MessageType.Pong), 'PONG');
    expect(joiner.error()).toBeUndefined();
    await stillServes(server, peer, 'still editable');
  });
});

describe('a document typed one character at a time', () => {
  it('refuses with ERROR 10 an edit that would pass --max-document-items, so memory is bounded however few characters it has', async () => {
    const server = await startBuiltServer({ args: ['--max-document-items', '100000'] });
    const watcher = await WireClient.join(server.port, { name: 'watcher' });
    const typist = await WireClient.join(server.port, { name: 'typist' });
    const before = server.rssMiB();
    await typist.waitForAck(typist.sendUpdate(unmergeableItemsUpdate(77, 0, 90_000)), 30_000);
    const at90k = server.rssMiB();
    typist.sendUpdate(unmergeableItemsUpdate(77, 90_000, 20_000));
    const error = await typist.refusal(30_000);
    expect(error.code).toBe(ErrorCode.DocumentTooLarge);
    expect(error.message).toMatch(/at most 100000 separate pieces of text/);
    await server.waitForOutput(/\[WARN\] Refused an edit of client typist \(127\.0\.0\.1:\d+\): document temp would pass 100000 items/);
    // 90,000 items of one character each: about 0.6 KiB apiece in the server (the document and its trial copy).
    expect(at90k - before).toBeLessThan(128);
    await watcher.waitFor(() => watcher.text().length === 90_000, 'the 90,000 characters that were accepted');
    await stillServes(server, watcher, '!');
    watcher.destroy();
    expect(await server.stop()).toBe(0);
    const again = await startBuiltServer({ dataDir: server.dataDir, args: ['--max-document-items', '100000'] });
    const joiner = await WireClient.join(again.port);
    expect(joiner.text()).toBe('x'.repeat(90_000) + '!');
  });
});

/** The Yjs client ids of every struct in the records of an update log (crc32, length, payload). */
function clientsInLog(path: string): number[] {
  const bytes = readFileSync(path);
  const ids = new Set<number>();
  for (let at = 0; at + 8 <= bytes.length;) {
    const length = bytes.readUInt32LE(at + 4);
    const { structs } = Y.decodeUpdate(bytes.subarray(at + 8, at + 8 + length));
    for (const struct of structs) ids.add(struct.id.client);
    at += 8 + length;
  }
  return [...ids];
}

/** lib0 varUint length + bytes (a varUint8Array). */
function lengthPrefixed(bytes: Uint8Array): Buffer {
  const head: number[] = [];
  let n = bytes.length;
  while (n > 0x7f) {
    head.push(0x80 | (n & 0x7f));
    n >>>= 7;
  }
  head.push(n);
  return Buffer.concat([Buffer.from(head), bytes]);
}
