import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '@collab/logging';
import { EchoServer, describeChunk, type EchoServerOptions } from './echo-server';

const servers: EchoServer[] = [];
const sockets: Socket[] = [];

function logCapture(level = 'info'): { logger: Logger; lines: string[] } {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level, stream }), lines };
}

async function startServer(overrides: Partial<EchoServerOptions> = {}) {
  const server = new EchoServer({
    host: '::',
    port: 0,
    maxConnections: 100,
    idleTimeoutMs: 0,
    logger: createLogger({ silent: true }),
    ...overrides,
  });
  servers.push(server);
  const { port } = await server.start();
  return { server, port };
}

async function dial(host: string, port: number): Promise<Socket> {
  const socket = connect({ host, port });
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

function readExactly(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= bytes) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).subarray(0, bytes));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

const waitFor = async (check: () => boolean, timeoutMs = 5000) => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

describe('EchoServer', () => {
  it.each(['127.0.0.1', '::1'])('echoes bytes exactly to a client on %s', async (host) => {
    const { port } = await startServer();
    const socket = await dial(host, port);
    const message = Buffer.from('hello, wörld\n\x00\xff');
    socket.write(message);
    expect(await readExactly(socket, message.length)).toEqual(message);
  });

  it('logs the assignment lines with IPv4-mapped addresses printed as plain IPv4', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ logger });
    const socket = await dial('127.0.0.1', port);
    socket.write('ping\n');
    await readExactly(socket, 5);
    const clientPort = socket.localPort;
    socket.end();
    await waitFor(() => lines.some((l) => l.startsWith('[INFO] Connection closed')));
    expect(lines).toEqual([
      `[INFO] Server is listening on [::]:${port} (IPv6)`,
      `[INFO] Connection from [127.0.0.1]: port [${clientPort}] (IPv4)`,
      `[INFO] Received: ping from [127.0.0.1]:${clientPort}`,
      `[INFO] Connection closed for [127.0.0.1]:${clientPort}`,
    ]);
  });

  it('sums up received chunks past the per-second line budget in one line', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ logger, maxReceivedLinesPerSecond: 2 });
    const socket = await dial('127.0.0.1', port);
    const clientPort = socket.localPort;
    for (const word of ['one', 'two', 'three', 'four', 'five']) {
      socket.write(word);
      await readExactly(socket, word.length);
    }
    socket.end();
    await waitFor(() => lines.some((l) => l.startsWith('[INFO] Connection closed')));
    const received = lines.filter((l) => l.startsWith('[INFO] Received:'));
    expect(received).toEqual([
      `[INFO] Received: one from [127.0.0.1]:${clientPort}`,
      `[INFO] Received: two from [127.0.0.1]:${clientPort}`,
      `[INFO] Received: 3 more chunks (13 bytes) from [127.0.0.1]:${clientPort}, not shown one by one`,
    ]);
  });

  it('logs IPv6 clients with their IPv6 address', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ logger });
    const socket = await dial('::1', port);
    await waitFor(() => lines.length >= 2);
    expect(lines[1]).toBe(`[INFO] Connection from [::1]: port [${socket.localPort}] (IPv6)`);
  });

  it('returns 100 MiB of random bytes identical', async () => {
    const { port } = await startServer();
    const socket = await dial('::1', port);
    const total = 100 * 1024 * 1024;
    const data = randomBytes(total);
    let received = 0;
    let mismatch = -1;
    const done = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (mismatch < 0 && !chunk.equals(data.subarray(received, received + chunk.length))) mismatch = received;
        received += chunk.length;
        if (received >= total) resolve();
      });
    });
    for (let off = 0; off < total; off += 1 << 20) {
      if (!socket.write(data.subarray(off, off + (1 << 20)))) await once(socket, 'drain');
    }
    await done;
    expect(received).toBe(total);
    expect(mismatch).toBe(-1);
  }, 60_000);

  it('holds a bounded amount for a client that sends but never reads', async () => {
    const { server, port } = await startServer();
    const socket = await dial('127.0.0.1', port);
    socket.pause(); // never read
    const chunk = Buffer.alloc(64 * 1024, 7);
    let accepted = 0;
    // Push until the kernel buffers on both sides are full and the client's own buffer backs up.
    for (let i = 0; i < 4096; i++) {
      accepted += chunk.length;
      if (!socket.write(chunk)) {
        const drained = await Promise.race([
          once(socket, 'drain').then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
        ]);
        if (!drained) break;
      }
    }
    const [serverSide] = (server as unknown as { sockets: Set<Socket> }).sockets;
    expect(serverSide).toBeDefined();
    // The bound: the write high-water mark (16 KiB) plus one read chunk (at most 64 KiB).
    expect(serverSide!.writableLength).toBeLessThanOrEqual(16 * 1024 + 64 * 1024);
    expect(serverSide!.isPaused()).toBe(true);
    expect(accepted).toBeLessThan(4096 * chunk.length); // the client really was held back
  }, 30_000);

  it('closes a connection that stays silent past the idle timeout', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ idleTimeoutMs: 200, logger });
    const socket = await dial('127.0.0.1', port);
    socket.resume();
    await once(socket, 'close');
    expect(lines.some((l) => l.includes('Idle timeout'))).toBe(true);
  });

  it('refuses a client past the connection limit and keeps serving the others', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ maxConnections: 2, logger });
    const a = await dial('127.0.0.1', port);
    const b = await dial('::1', port);
    await waitFor(() => lines.filter((l) => l.includes('Connection from')).length === 2);
    const refused = await dial('127.0.0.1', port);
    const refusedData: Buffer[] = [];
    refused.on('data', (d: Buffer) => refusedData.push(d));
    await once(refused, 'close');
    expect(refusedData).toEqual([]);
    expect(lines.some((l) => l.startsWith('[WARN] Connection limit (2) reached. Rejected connection from [127.0.0.1]:'))).toBe(true);
    for (const s of [a, b]) {
      s.write('still here');
      expect((await readExactly(s, 10)).toString()).toBe('still here');
    }
  });

  it('rejects start() with a ListenError when the port is taken, and logs nothing itself', async () => {
    const { port } = await startServer({ host: '127.0.0.1' });
    const { logger, lines } = logCapture();
    const second = new EchoServer({ host: '127.0.0.1', port, maxConnections: 1, idleTimeoutMs: 0, logger });
    servers.push(second);
    await expect(second.start()).rejects.toMatchObject({
      code: 'COLLAB_ERR_LISTEN',
      message: `cannot listen on 127.0.0.1:${port}: port ${port} is already in use`,
    });
    // Saying it is the caller's job (main logs one line); node's own EADDRINUSE message is not logged.
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });

  it('refuses a connection past the per-address limit without a byte, and serves other addresses', async () => {
    const { logger, lines } = logCapture();
    const { port } = await startServer({ maxConnectionsPerAddress: 2, logger });
    const a = await dial('127.0.0.1', port);
    const b = await dial('127.0.0.1', port);
    await waitFor(() => lines.filter((l) => l.includes('Connection from')).length === 2);
    const refused = await dial('127.0.0.1', port);
    const refusedPort = refused.localPort;
    const refusedData: Buffer[] = [];
    refused.on('data', (d: Buffer) => refusedData.push(d));
    await once(refused, 'close');
    expect(refusedData).toEqual([]);
    expect(lines).toContain(`[WARN] Too many connections from 127.0.0.1 (limit 2). Rejected connection from [127.0.0.1]:${refusedPort}`);
    // Another address still gets in, and so does 127.0.0.1 once one of its connections is gone.
    const other = await dial('::1', port);
    other.write('other');
    expect((await readExactly(other, 5)).toString()).toBe('other');
    a.destroy();
    await waitFor(() => lines.filter((l) => l.startsWith('[INFO] Connection closed')).length === 1);
    const again = await dial('127.0.0.1', port);
    again.write('again');
    expect((await readExactly(again, 5)).toString()).toBe('again');
    b.write('b');
    expect((await readExactly(b, 1)).toString()).toBe('b');
  });

  it('lets one address hold every slot with a per-address limit of 0', async () => {
    const { server, port } = await startServer({ maxConnections: 30, maxConnectionsPerAddress: 0 });
    for (let i = 0; i < 30; i++) await dial('127.0.0.1', port);
    await waitFor(() => server.connectionCount === 30);
  });

  it('holds one address to 16 connections by default', async () => {
    const { logger, lines } = logCapture('warn');
    const { server, port } = await startServer({ logger });
    for (let i = 0; i < 17; i++) (await dial('::1', port)).resume();
    await waitFor(() => lines.length === 1);
    expect(lines[0]).toMatch(/^\[WARN\] Too many connections from ::1 \(limit 16\)\. Rejected connection from \[::1\]:\d+$/);
    expect(server.connectionCount).toBe(16);
  });

  it('close() ends every connection, and a second close() is harmless', async () => {
    const { server, port } = await startServer();
    const socket = await dial('127.0.0.1', port);
    socket.resume();
    const closed = once(socket, 'close');
    await server.close(500);
    await server.close(500);
    await closed;
    await waitFor(() => server.connectionCount === 0);
  });

  it('rejects bad limits with a sentence', () => {
    expect(() => new EchoServer({ port: 0, maxConnections: 0, idleTimeoutMs: 0, logger: createLogger({ silent: true }) })).toThrow(
      'maxConnections must be a whole number of at least 1',
    );
    expect(
      () =>
        new EchoServer({
          port: 0,
          maxConnections: 1,
          maxConnectionsPerAddress: -1,
          idleTimeoutMs: 0,
          logger: createLogger({ silent: true }),
        }),
    ).toThrow('maxConnectionsPerAddress must be a whole number, 0 (no limit) or more');
  });
});

describe('describeChunk', () => {
  it('shows text without its newline', () => {
    expect(describeChunk(Buffer.from('hello\n'), 80)).toBe('hello');
  });

  it('shortens long text', () => {
    expect(describeChunk(Buffer.from('x'.repeat(500)), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('does not take a multi-byte character cut at the limit for binary data', () => {
    expect(describeChunk(Buffer.from('é'.repeat(100)), 10)).toBe(`${'é'.repeat(9)}…`);
  });

  it('gives the size of binary data instead of its bytes', () => {
    expect(describeChunk(Buffer.from([0, 1, 2, 0xff]), 80)).toBe('(4 bytes of binary data)');
  });
});
