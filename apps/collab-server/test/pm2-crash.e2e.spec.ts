// Crash test under PM2: clients keep appending lines while the built server is killed with
// SIGKILL several times; at the end every line the server had acknowledged is in every
// client's document and in temp.txt.
import { execFile } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as Y from 'yjs';
import { ReconnectingClient } from '@collab/collab-protocol';

const root = join(__dirname, '..', '..', '..');
const pm2 = join(root, 'node_modules', 'pm2', 'bin', 'pm2');
const run = promisify(execFile);
const KILLS = 4;

let home: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
const clients: ReconnectingClient[] = [];

async function freePort(): Promise<number> {
  const s = createServer().listen({ host: '::', port: 0 });
  await once(s, 'listening');
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function pm2Cmd(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [pm2, ...args], { env, cwd: root, timeout: 60_000 });
  return stdout;
}

async function serverState(): Promise<{ pid: number; status: string; restarts: number } | undefined> {
  const list = JSON.parse(await pm2Cmd('jlist')) as Array<{ name: string; pid: number; pm2_env: { status: string; restart_time: number } }>;
  const app = list.find((a) => a.name === 'collab-server');
  return app && { pid: app.pid, status: app.pm2_env.status, restarts: app.pm2_env.restart_time };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'collab-pm2-'));
  dataDir = mkdtempSync(join(tmpdir(), 'collab-data-'));
});

afterAll(async () => {
  for (const c of clients) c.stop();
  await pm2Cmd('kill').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

it('loses no acknowledged edit when the server is killed with SIGKILL under PM2', async () => {
  const port = await freePort();
  env = { ...process.env, PM2_HOME: home, COLLAB_PORT: String(port), COLLAB_CWD: dataDir, LOG_LEVEL: 'warn' };
  await pm2Cmd('start', 'ecosystem.config.js', '--only', 'collab-server');
  expect((await serverState())?.status).toBe('online');

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

  let previous = (await serverState())!;
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(400 + Math.random() * 600);
    process.kill(previous.pid, 'SIGKILL');
    const until = Date.now() + 30_000;
    let next = await serverState();
    while (!(next && next.status === 'online' && next.pid !== previous.pid && next.pid > 0)) {
      if (Date.now() > until) throw new Error(`PM2 did not restart collab-server: ${JSON.stringify(next)}`);
      await sleep(100);
      next = await serverState();
    }
    previous = next;
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
  expect((await serverState())!.restarts).toBeGreaterThanOrEqual(KILLS);

  // A graceful stop writes temp.txt exactly.
  await pm2Cmd('stop', 'collab-server');
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
