// The built echo-client when the server goes away in the middle of a run: a real echo-server
// killed with SIGKILL, and a peer that answers and then resets the connection. Every case is
// one line on stderr (no stack trace), the figures so far on stdout, and exit 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { freePort, waitFor, waitForPort } from '@collab/testing';
import { builtApp, runBuilt } from './run-built';

const servers: ChildProcess[] = [];
const peers: Server[] = [];
const peerSockets = new Set<Socket>();

/** The stderr of a connection lost mid-run: exactly one line, and no stack trace. */
const LOST = /^echo-client: (the server closed the connection|the connection failed: E[A-Z]+ [^\n]+)\n$/;

/** Starts the built echo-server on 127.0.0.1; `connected()` tells when a client is in. */
async function startEchoServer() {
  const port = await freePort('127.0.0.1');
  const child = spawn(process.execPath, [builtApp('echo-server'), '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitForPort(port, { stillAlive: () => child.exitCode === null });
  return { child, port, connected: () => out.includes('Connection from') };
}

/** A peer that echoes the first chunk it gets, then resets the connection after `afterMs`. */
async function startResettingPeer(afterMs: number): Promise<number> {
  const peer = createServer((socket) => {
    peerSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => peerSockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.write(chunk);
      setTimeout(() => socket.resetAndDestroy(), afterMs);
    });
  });
  peers.push(peer);
  peer.listen({ host: '::1', port: 0 });
  await once(peer, 'listening');
  return (peer.address() as { port: number }).port;
}

afterEach(async () => {
  for (const child of servers.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  for (const s of peerSockets) s.destroy();
  await Promise.all(peers.splice(0).map((p) => new Promise((resolve) => p.close(resolve))));
});

describe('echo-client when the echo-server is killed mid-run', () => {
  it('throughput mode: prints the figures so far and one line, exit 1', async () => {
    const server = await startEchoServer();
    const run = runBuilt('echo-client', ['127.0.0.1', '--port', String(server.port), '--throughput', '4']);
    await waitFor(server.connected, 'the client to connect');
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGKILL');
    const r = await run;
    expect(r.stderr).toMatch(LOST);
    expect(r.stdout).toMatch(new RegExp(`^--- 127\\.0\\.0\\.1:${server.port} throughput, [\\d.]+ s`));
    expect(r.stdout).toMatch(/^sent +[\d.]+ MB/m);
    expect(r.code).toBe(1);
  });

  it('ping mode: prints the statistics so far and one line, exit 1', async () => {
    const server = await startEchoServer();
    const run = runBuilt('echo-client', ['127.0.0.1', '--port', String(server.port), '--count', '50', '--interval', '0.05']);
    await waitFor(server.connected, 'the client to connect');
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGKILL');
    const r = await run;
    expect(r.stderr).toMatch(LOST);
    expect(r.stdout).toMatch(new RegExp(`--- 127\\.0\\.0\\.1:${server.port} echo statistics ---\n\\d+ sent, \\d+ received`));
    expect(r.stdout).toMatch(/rtt min\/avg\/max\/p50\/p99 = /);
    expect(r.code).toBe(1);
  });
});

describe('echo-client against a peer that answers and then resets', () => {
  // The reset races with whatever the client does next (reading, writing, waiting): repeat.
  it.each([1, 2, 3])('throughput mode, run %i: figures and one line, exit 1', async () => {
    const port = await startResettingPeer(100);
    const r = await runBuilt('echo-client', [`[::1]:${port}`, '--throughput', '2']);
    expect(r.stderr).toMatch(LOST);
    expect(r.stdout).toMatch(/did not come back/);
    expect(r.code).toBe(1);
  });

  it('throughput mode with --json: the figures and the error in the JSON object', async () => {
    const port = await startResettingPeer(100);
    const r = await runBuilt('echo-client', [`[::1]:${port}`, '--throughput', '2', '--json']);
    expect(r.stderr).toMatch(LOST);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ mode: 'throughput', error: expect.stringMatching(/^the (server closed|connection failed)/) });
    expect(result.receivedBytes).toBeLessThan(result.sentBytes);
    expect(r.code).toBe(1);
  });

  it.each([1, 2, 3])('ping mode, run %i: statistics and one line, exit 1', async () => {
    const port = await startResettingPeer(150);
    const r = await runBuilt('echo-client', ['::1', '--port', String(port), '--count', '5', '--interval', '0.1']);
    expect(r.stderr).toMatch(LOST);
    expect(r.stdout).toMatch(/seq=1 time=/);
    expect(r.stdout).toMatch(/\n--- \[::1\]:\d+ echo statistics ---\n2 sent, 1 received, 50% loss/);
    expect(r.code).toBe(1);
  });

  it('piped mode: the echoes so far and one line, exit 1', async () => {
    const port = await startResettingPeer(100);
    const r = await runBuilt('echo-client', ['::1', '--port', String(port)], 'first\nsecond\n');
    expect(r.stdout).toBe('Echo from server: first\n');
    expect(r.stderr).toMatch(new RegExp(`^Connected to server at \\[::1\\]:${port}\n${LOST.source.slice(1)}`));
    expect(r.code).toBe(1);
  });
});
