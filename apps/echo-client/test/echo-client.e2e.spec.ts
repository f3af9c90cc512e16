import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { freePort } from '@collab/testing';
import { runBuilt } from './run-built';

/** A plain echo server on [::] (dual stack) for the client to talk to. */
let server: Server;
let port: number;
const open = new Set<Socket>();

beforeAll(async () => {
  server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.pipe(s);
  });
  server.listen({ host: '::', port: 0 });
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
});

/** A port with nothing listening on it. */
const deadPort = () => freePort('127.0.0.1');

describe('echo-client piped', () => {
  it.each(['127.0.0.1', '::1', 'localhost'])('echoes each line through %s and exits 0', async (host) => {
    const r = await runBuilt('echo-client', [host, '--port', String(port)], 'hello\nwörld\n');
    expect(r.stderr).toMatch(/^Connected to server at /);
    expect(r.stdout).toBe('Echo from server: hello\nEcho from server: wörld\n');
    expect(r.code).toBe(0);
  });

  it('prints the server as [::1]:PORT for IPv6 and a.b.c.d:PORT for IPv4', async () => {
    const v6 = await runBuilt('echo-client', [`[::1]:${port}`], 'x\n');
    expect(v6.stderr).toBe(`Connected to server at [::1]:${port}\n`);
    const v4 = await runBuilt('echo-client', ['localhost', '--port', String(port)], 'x\n');
    expect(v4.stderr).toBe(`Connected to server at 127.0.0.1:${port}\n`);
  });

  it('echoes empty lines too, each as a line of its own', async () => {
    const r = await runBuilt('echo-client', ['127.0.0.1', '--port', String(port)], 'a\n\n\nb\n');
    expect(r.stdout).toBe('Echo from server: a\nEcho from server: \nEcho from server: \nEcho from server: b\n');
    expect(r.code).toBe(0);
  });

  it('reads the address from the first line when none is given', async () => {
    const r = await runBuilt('echo-client', ['--port', String(port)], `::1\nhi\nexit\nnot sent\n`);
    expect(r.stdout).toBe('Echo from server: hi\n');
    expect(r.code).toBe(0);
  });
});

describe('echo-client ping mode', () => {
  it('prints a line per reply and a ping-style summary', async () => {
    const r = await runBuilt('echo-client', ['::1', '--port', String(port), '--count', '3', '--interval', '0.05']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ECHO \\[::1\\]:${port}: 64 data bytes\n`));
    expect(r.stdout).toMatch(/64 bytes from \[::1\]:\d+: seq=3 time=\d+\.\d{3} ms/);
    expect(r.stdout).toMatch(/3 sent, 3 received, 0% loss, time \d+ ms/);
    expect(r.stdout).toMatch(/rtt min\/avg\/max\/p50\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/);
  });

  it('prints one JSON object with --json', async () => {
    const r = await runBuilt('echo-client', ['127.0.0.1', '--port', String(port), '-c', '4', '-i', '0', '--size', '1000', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ mode: 'ping', server: `127.0.0.1:${port}`, sizeBytes: 1000, sent: 4, received: 4, lossPercent: 0 });
    expect(result.rttMs.p99).toBeGreaterThan(0);
  });

  it('counts replies that never come as lost and exits 1', async () => {
    const silent = createServer((s) => s.resume()); // reads, never answers
    silent.listen({ host: '::1', port: 0 });
    await once(silent, 'listening');
    try {
      const p = (silent.address() as { port: number }).port;
      const r = await runBuilt('echo-client', ['::1', '--port', String(p), '-c', '2', '-i', '0', '--timeout', '0.2']);
      expect(r.stdout).toContain('Request timeout for seq=1');
      expect(r.stdout).toMatch(/2 sent, 0 received, 100% loss/);
      expect(r.code).toBe(1);
    } finally {
      silent.close();
    }
  });
});

describe('echo-client throughput mode', () => {
  it('streams, checks every byte and reports MB/s both ways', async () => {
    const r = await runBuilt('echo-client', ['::1', '--port', String(port), '--throughput', '0.5', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.mode).toBe('throughput');
    expect(result.sentBytes).toBeGreaterThan(0);
    expect(result.receivedBytes).toBe(result.sentBytes);
    expect(result.mismatchedBytes).toBe(0);
    expect(result.sentMBps).toBeGreaterThan(0);
    expect(result.receivedMBps).toBeGreaterThan(0);
  });
});

describe('echo-client failures', () => {
  it('reports a refused connection with the address tried, exit 2, no stack trace', async () => {
    const p = await deadPort();
    const r = await runBuilt('echo-client', ['127.0.0.1', '--port', String(p), '-c', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`echo-client: could not connect to 127.0.0.1 port ${p}: 127.0.0.1 (ECONNREFUSED connection refused)\n`);
  });

  it('reports an unknown host, exit 2', async () => {
    const r = await runBuilt('echo-client', ['no-such-host.invalid', '-c', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^echo-client: host "no-such-host\.invalid" was not found/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a bad option with exit 2', async () => {
    const r = await runBuilt('echo-client', ['::1', '--count', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '-c, --count <n>' argument 'many' is invalid");
  });

  it('says when the server goes away mid-conversation', async () => {
    const closer = createServer((s) => s.once('data', () => s.destroy()));
    closer.listen({ host: '127.0.0.1', port: 0 });
    await once(closer, 'listening');
    try {
      const p = (closer.address() as { port: number }).port;
      const r = await runBuilt('echo-client', ['127.0.0.1', '--port', String(p)], 'hello\n');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/echo-client: (the server closed the connection|the connection failed: ECONNRESET)/);
    } finally {
      closer.close();
    }
  });

  it.each([
    [['--count', '2'], "option '-c, --count <n>'"],
    [['--interval', '0.5'], "option '-i, --interval <seconds>'"],
  ])('refuses %j with --throughput, which has no use for it: usage error, exit 2', async (flag, named) => {
    const r = await runBuilt('echo-client', ['::1', '--port', String(port), '--throughput', '1', ...flag]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${named} cannot be used with option '-t, --throughput <seconds>'`);
    expect(r.stdout).toBe('');
  });

  it('prints --help and --version with exit 0', async () => {
    const help = await runBuilt('echo-client', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--throughput <seconds>');
    const version = await runBuilt('echo-client', ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
