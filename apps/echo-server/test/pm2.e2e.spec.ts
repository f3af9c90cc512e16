import { execFile } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const pm2 = join(root, 'node_modules', 'pm2', 'bin', 'pm2');
const run = promisify(execFile);

let home: string;
let env: NodeJS.ProcessEnv;

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

async function echoServerState(): Promise<{ pid: number; status: string; restarts: number } | undefined> {
  const list = JSON.parse(await pm2Cmd('jlist')) as Array<{ name: string; pid: number; pm2_env: { status: string; restart_time: number } }>;
  const app = list.find((a) => a.name === 'echo-server');
  return app && { pid: app.pid, status: app.pm2_env.status, restarts: app.pm2_env.restart_time };
}

async function echoOnce(host: string, port: number, text: string): Promise<string> {
  const s = connect({ host, port });
  try {
    await once(s, 'connect');
    s.write(text);
    const [data] = (await once(s, 'data')) as [Buffer];
    return data.toString();
  } finally {
    s.destroy();
  }
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'collab-pm2-'));
});

afterAll(async () => {
  // Stop the test's own PM2 daemon (never one the user runs: PM2_HOME is ours).
  await pm2Cmd('kill').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

it('runs echo-server under PM2 and brings it back after SIGKILL', async () => {
  const port = await freePort();
  env = { ...process.env, PM2_HOME: home, ECHO_PORT: String(port), ECHO_CWD: home, LOG_LEVEL: 'warn' };
  await pm2Cmd('start', 'ecosystem.config.js', '--only', 'echo-server');
  const first = await echoServerState();
  expect(first?.status).toBe('online');
  expect(await echoOnce('::1', port, 'before')).toBe('before');

  process.kill(first!.pid, 'SIGKILL');
  let next = await echoServerState();
  const until = Date.now() + 20_000;
  while (!(next && next.status === 'online' && next.pid !== first!.pid && next.pid > 0)) {
    if (Date.now() > until) throw new Error(`PM2 did not restart echo-server: ${JSON.stringify(next)}`);
    await new Promise((r) => setTimeout(r, 200));
    next = await echoServerState();
  }
  expect(next.restarts).toBeGreaterThanOrEqual(1);
  // wait_ready: online means it is listening again.
  expect(await echoOnce('127.0.0.1', port, 'after')).toBe('after');
}, 90_000);
