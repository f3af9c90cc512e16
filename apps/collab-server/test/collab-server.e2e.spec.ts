// The built server as PM2 and users start it: flags, start-up failures, signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor, waitForPort } from '@collab/testing';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-server', 'main.js');
const children: ChildProcess[] = [];
let dataDir: string;

function start(args: string[], cwd = dataDir) {
  const child = spawn(process.execPath, [main, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => out };
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-server-e2e-'));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('starts in its working directory, logs the start lines, and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const server = start(['--port', String(port)]);
  await waitForPort(port, { stillAlive: () => server.child.exitCode === null });
  // The port accepts before the start lines have come through the pipe: wait for them.
  await waitFor(() => server.output().includes('Server listening'), 'the start lines');
  expect(server.output()).toContain('[INFO] Created temp.txt');
  expect(server.output()).toContain(`[INFO] Server listening on port ${port}`);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  expect(server.output()).toContain('[INFO] Server shut down');
});

it('says why it cannot listen and exits 2', async () => {
  const port = await freePort();
  const first = start(['--port', String(port), '--ws-port', 'off']);
  await waitForPort(port, { stillAlive: () => first.child.exitCode === null });
  const otherDir = mkdtempSync(join(tmpdir(), 'collab-server-e2e-'));
  try {
    const second = start(['--port', String(port), '--ws-port', 'off'], otherDir);
    expect(await second.exited).toBe(2);
    // One line, naming the port (not Node's EADDRINUSE message first).
    const errors = second
      .output()
      .split('\n')
      .filter((line) => line.includes('[ERROR]'));
    expect(errors).toEqual([`[ERROR] Server error: cannot listen on [::]:${port}: port ${port} is already in use`]);
    expect(second.output()).not.toMatch(/\n\s+at /);
    // The port is checked before anything is created: no temp.txt (nor anything else) is left behind.
    expect(second.output()).not.toContain('Created temp.txt');
    expect(readdirSync(otherDir)).toEqual([]);
  } finally {
    rmSync(otherDir, { recursive: true, force: true });
  }
});

it('refuses a second server on the same data directory', async () => {
  const firstPort = await freePort();
  const first = start(['--port', String(firstPort)]);
  await waitForPort(firstPort, { stillAlive: () => first.child.exitCode === null });
  const second = start(['--port', String(await freePort())]);
  expect(await second.exited).toBe(2);
  expect(second.output()).toMatch(/in use by process \d+/);
});

it('logs "[ERROR] Error opening file temp.txt" and exits non-zero when temp.txt cannot be read', async () => {
  mkdirSync(join(dataDir, 'temp.txt')); // a directory where the file should be
  const server = start(['--port', String(await freePort())]);
  expect(await server.exited).not.toBe(0);
  expect(server.output()).toContain('[ERROR] Error opening file temp.txt');
});

it('prints --help with every flag and --version', async () => {
  const help = start(['--help']);
  expect(await help.exited).toBe(0);
  for (const flag of ['--host', '--port', '--data-dir', '--max-clients', '--max-frame', '--idle-timeout', '--token', '--log-level']) {
    expect(help.output()).toContain(flag);
  }
  const version = start(['--version']);
  expect(await version.exited).toBe(0);
  expect(version.output().trim()).toMatch(/^\d+\.\d+\.\d+/);
});

it('takes its settings from COLLAB_* environment variables', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    cwd: dataDir,
    env: { ...process.env, COLLAB_PORT: String(port), COLLAB_DATA_DIR: join(dataDir, 'docs') },
    stdio: 'ignore',
  });
  children.push(child);
  await waitForPort(port, { stillAlive: () => child.exitCode === null });
});

it('refuses a --watch-files value that is not on or off, naming the flag, exit 2', async () => {
  const server = start(['--port', String(await freePort()), '--watch-files', 'maybe']);
  expect(await server.exited).toBe(2);
  expect(server.output()).toMatch(/--watch-files <on\|off>.*'maybe' is invalid\. must be on or off/);
});
