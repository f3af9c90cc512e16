// The built server's web port as users start it: --ws-port and --allow-origin, on and off.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, waitFor, waitForPort } from '@collab/testing';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-server', 'main.js');
const children: ChildProcess[] = [];
let dataDir: string;

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [main, '--host', '127.0.0.1', ...args], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => out };
}

const status = (port: number, path: string) =>
  new Promise<number>((resolve, reject) =>
    get({ host: '127.0.0.1', port, path }, (res) => resolve(res.statusCode ?? 0)).on('error', reject),
  );

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-web-port-e2e-'));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('serves the built web editor on --ws-port and says where', async () => {
  const [port, wsPort] = [await freePort(), await freePort()];
  const server = start(['--port', String(port), '--ws-port', String(wsPort)]);
  await waitForPort(wsPort, { stillAlive: () => server.child.exitCode === null });
  await waitFor(() => server.output().includes('Web editor on port'), 'the start line');
  expect(server.output()).toContain(`[INFO] Web editor on port ${wsPort}: http://localhost:${wsPort}/temp`);
  expect(await status(wsPort, '/temp')).toBe(200);
  expect(await status(wsPort, '/assets/editor.js')).toBe(200);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

it('has no web port with --ws-port off (or COLLAB_WS_PORT=off)', async () => {
  const [port, wsPort] = [await freePort(), await freePort()];
  const server = start(['--port', String(port)], { COLLAB_WS_PORT: 'off' });
  await waitForPort(port, { stillAlive: () => server.child.exitCode === null });
  await waitFor(() => server.output().includes('Server listening'), 'the start lines');
  expect(server.output()).not.toContain('Web editor');
  expect(await accepts(wsPort)).toBe(false);
});

it('refuses a bad --ws-port or --allow-origin in one line, exit 2', async () => {
  const port = await freePort();
  const cases: Array<[string[], RegExp]> = [
    [['--ws-port', 'http'], /--ws-port.*must be a port from 0 to 65535, or off/],
    [['--port', String(port), '--ws-port', String(port)], /--ws-port \(COLLAB_WS_PORT\) must differ from --port \(COLLAB_PORT\)/],
    [['--allow-origin', 'example.org/path'], /--allow-origin.*is not an origin/],
  ];
  for (const [args, message] of cases) {
    const server = start(args);
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(message);
    expect(server.output()).not.toMatch(/\n\s+at /);
  }
});

it('exits 2 with one line when the web port is taken', async () => {
  const [port, wsPort] = [await freePort(), await freePort()];
  const first = start(['--port', String(await freePort()), '--ws-port', String(wsPort)]);
  await waitForPort(wsPort, { stillAlive: () => first.child.exitCode === null });
  const otherDir = mkdtempSync(join(dataDir, 'other-'));
  const second = start(['--port', String(port), '--ws-port', String(wsPort)], { COLLAB_DATA_DIR: otherDir });
  expect(await second.exited).toBe(2);
  expect(second.output()).toMatch(new RegExp(`\\[ERROR\\] Server error: cannot listen on .*port ${wsPort} is already in use`));
  expect(readdirSync(otherDir)).toEqual([]); // nothing created: the ports come before temp.txt
});
