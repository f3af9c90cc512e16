// Issue 12, item 12: with its default flags the built echo-server no longer lets one address
// hold all of its 100 slots: past 16 connections from one address the next is closed without a
// byte (and a [WARN] line), and other addresses are still served.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort, waitFor, waitForPort } from '@collab/testing';

jest.setTimeout(30_000);

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'echo-server', 'main.js');
const children: ChildProcess[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Connects from `localAddress` (to 127.0.0.1, or to ::1 for an IPv6 source) and reports whether an echo comes back. */
async function echoes(port: number, localAddress: string): Promise<{ socket: Socket; served: boolean }> {
  const socket = connect({ host: localAddress.includes(':') ? '::1' : '127.0.0.1', port, localAddress });
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('ping');
  const served = await Promise.race([once(socket, 'data').then(() => true), once(socket, 'close').then(() => false)]);
  return { socket, served };
}

it('serves 16 connections of one address with the default flags, closes the 17th to 100th without a byte, and serves other addresses', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [main, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Waiting for the port is done from ::1, so no probe of 127.0.0.2 is still being counted.
  await waitForPort(port, { host: '::1', stillAlive: () => child.exitCode === null });

  const results: boolean[] = [];
  for (let i = 0; i < 100; i++) results.push((await echoes(port, '127.0.0.2')).served);
  expect(results.filter(Boolean)).toHaveLength(16);
  expect(results.slice(0, 16).every(Boolean)).toBe(true);
  await waitFor(() => out.includes('[WARN] Too many connections from 127.0.0.2 (limit 16). Rejected connection from'), 'the warning');

  // The other 84 slots are still there for everyone else.
  for (const source of ['127.0.0.1', '::1']) {
    const { served } = await echoes(port, source);
    expect([source, served]).toEqual([source, true]);
  }
  child.kill('SIGTERM');
  await once(child, 'exit');
});
