// Crash test under PM2: clients keep appending lines while the built server is killed with
// SIGKILL several times; at the end every line the server had acknowledged is in every
// client's document and in temp.txt.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { ReconnectingClient } from '@collab/collab-protocol';
import { freePort, Pm2Sandbox } from '@collab/testing';

const KILLS = 4;

let pm2: Pm2Sandbox | undefined;
let dataDir: string;
const clients: ReconnectingClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-data-'));
});

afterAll(async () => {
  for (const c of clients) c.stop();
  await pm2?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

it('loses no acknowledged edit when the server is killed with SIGKILL under PM2', async () => {
  const port = await freePort();
  pm2 = new Pm2Sandbox({ COLLAB_PORT: String(port), COLLAB_CWD: dataDir, LOG_LEVEL: 'warn' });
  let previous = await pm2.start('collab-server');
  expect(previous.status).toBe('online');

  const acked: Array<Set<string>> = [];
  const docs: Y.Doc[] = [];
  for (let c = 0; c < 3; c++) {
    const doc = new Y.Doc();
    docs.push(doc);
    acked.push(new Set());
    const client = new ReconnectingClient({
      document: 'temp',
      clientName: `writer${c}`,
      doc,
      initialDelayMs: 50,
      maxDelayMs: 400,
      connect: async () => {
        const socket: Socket = connect({ host: c % 2 ? '::1' : '127.0.0.1', port });
        await once(socket, 'connect');
        return socket;
      },
    });
    clients.push(client);
    await client.start();
  }

  let writing = true;
  const writers = clients.map(async (client, c) => {
    const text = docs[c]!.getText('content');
    for (let k = 0; writing && k < 2000; k++) {
      const line = `w${c}-${k}`;
      text.insert(text.length, `${line}\n`);
      const written = [line];
      void client.whenSaved().then(
        () => written.forEach((l) => acked[c]!.add(l)),
        () => undefined,
      );
      await sleep(5 + Math.random() * 15);
    }
  });

  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(400 + Math.random() * 600);
    process.kill(previous.pid, 'SIGKILL');
    previous = await pm2.waitForRestart('collab-server', previous.pid);
  }
  await sleep(500);
  writing = false;
  await Promise.all(writers);
  await Promise.all(clients.map((c) => c.whenSaved()));
  const expected = docs[0]!.getText('content').toString();
  const until = Date.now() + 20_000;
  while (!docs.every((d) => d.getText('content').toString() === expected)) {
    if (Date.now() > until) throw new Error('clients did not converge');
    await sleep(20);
  }
  expect((await pm2.state('collab-server'))!.restarts).toBeGreaterThanOrEqual(KILLS);

  // A graceful stop writes temp.txt exactly.
  await pm2.pm2('stop', 'collab-server');
  const stored = readFileSync(join(dataDir, 'temp.txt'), 'utf8');
  const storedLines = new Set(stored.split('\n'));
  let checked = 0;
  for (const set of acked) {
    for (const line of set) {
      checked++;
      expect(storedLines.has(line)).toBe(true);
      for (const d of docs) expect(d.getText('content').toString()).toContain(`${line}\n`);
    }
  }
  expect(checked).toBeGreaterThan(50);
  expect(stored).toBe(expected);
}, 120_000);
