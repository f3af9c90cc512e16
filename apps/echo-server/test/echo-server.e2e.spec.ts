import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { freePort, waitFor, waitForPort } from '@collab/testing';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'echo-server', 'main.js');
const children: ChildProcess[] = [];
const sockets: Socket[] = [];

/** Starts the built server and resolves once it accepts connections on `port`. */
async function startBuilt(args: string[], port: number, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [main, '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await waitForPort(port, { stillAlive: () => child.exitCode === null });
  return { child, exited, output: () => out, errors: () => err };
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('echo-server (built)', () => {
  it('logs its start line, serves 127.0.0.1 and ::1, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const server = await startBuilt([], port);
    await waitFor(() => server.output().includes('Server is listening'), 'the start line');
    expect(server.output()).toContain(`[INFO] Server is listening on [::]:${port} (IPv6)`);
    for (const host of ['127.0.0.1', '::1']) {
      const s = connect({ host, port });
      sockets.push(s);
      await once(s, 'connect');
      s.write('abc');
      const [data] = (await once(s, 'data')) as [Buffer];
      expect(data.toString()).toBe('abc');
    }
    server.child.kill('SIGTERM');
    const [code] = await server.exited;
    expect(code).toBe(0);
    expect(server.output()).toContain('[INFO] Server shut down');
  });

  it('says in one line why it cannot listen and exits 2 when the port is taken', async () => {
    const port = await freePort();
    const first = await startBuilt([], port);
    const second = spawn(process.execPath, [main, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(second);
    let err = '';
    second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    let out = '';
    second.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).toBe(2);
    // Exactly one line: not node's EADDRINUSE message, then ours, then the same again.
    expect(err).toBe(`[ERROR] Server error: cannot listen on [::]:${port}: port ${port} is already in use\n`);
    expect(out).toBe('');
    first.child.kill('SIGTERM');
    await first.exited;
  });

  it('holds one address to ECHO_MAX_CONNECTIONS_PER_ADDRESS connections, closing the next without a byte', async () => {
    const port = await freePort();
    const server = await startBuilt(['--log-level', 'warn'], port, { ECHO_MAX_CONNECTIONS_PER_ADDRESS: '1' });
    // From ::1: the probe that saw the port open came from 127.0.0.1 and may not be counted out yet.
    const first = connect({ host: '::1', port });
    sockets.push(first);
    await once(first, 'connect');
    first.write('one');
    await once(first, 'data');
    const second = connect({ host: '::1', port });
    sockets.push(second);
    const received: Buffer[] = [];
    second.on('data', (d: Buffer) => received.push(d));
    second.on('error', () => undefined);
    await once(second, 'close');
    expect(received).toEqual([]);
    await waitFor(() => server.errors().includes('[WARN] Too many connections from ::1 (limit 1)'), 'the warning');
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('rejects a bad option with exit 2 and a sentence', async () => {
    const child = spawn(process.execPath, [main, '--max-connections', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(err).toContain('must be a whole number from 1 to');
  });

  it('keeps its memory bounded while a client sends 256 MiB and never reads', async () => {
    const port = await freePort();
    const server = await startBuilt(['--log-level', 'warn'], port);
    const before = rssKiB(server.child.pid!);
    const s = connect({ host: '127.0.0.1', port });
    sockets.push(s);
    await once(s, 'connect');
    s.pause();
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 256; i++) {
      if (!s.write(chunk)) {
        const drained = await Promise.race([once(s, 'drain').then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
        if (!drained) break; // the server stopped reading: backpressure works
      }
    }
    const after = rssKiB(server.child.pid!);
    // Stated bound: growth under 32 MiB whatever the client sends (in practice a few hundred KiB).
    expect(after - before).toBeLessThan(32 * 1024);
  }, 30_000);
});
