import { constants } from 'node:os';
import { connect, createServer, Socket, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConnectError, HostNotFoundError, InvalidAddressError } from './errors';
import { connectHappyEyeballs, type ConnectOptions } from './happy-eyeballs';
import type { Lookup } from './resolve-host';
import type { Family, ResolvedAddress } from './types';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  jest.restoreAllMocks();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A real server on a loopback address (or '::' for both); returns its port. */
async function startServer(host: string): Promise<number> {
  const server = createServer((socket) => socket.on('error', () => undefined));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host, port: 0, ipv6Only: false }, resolve));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on, on 127.0.0.1 and ::1 alike, so connecting there is refused at once. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '::', port: 0, ipv6Only: false }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fixed =
  (...addresses: ResolvedAddress[]): Lookup =>
  async () =>
    addresses;
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

/** Never connects and never fails, like a blackholed address; it sends nothing anywhere. */
function hanging(): Socket {
  return new Socket();
}

/** Fails the way a refused connect does, without any traffic. */
function refused(): Socket {
  const socket = new Socket();
  const err = Object.assign(new Error('connect ECONNREFUSED'), {
    code: 'ECONNREFUSED',
    errno: -constants.errno.ECONNREFUSED,
  });
  process.nextTick(() => socket.destroy(err));
  return socket;
}

interface Call {
  address: string;
  family: Family;
  at: number;
  socket: Socket;
}

/** A connect option that records each attempt and lets the test decide how it behaves. */
function recorder(behave: (address: string, port: number, family: Family) => Socket) {
  const calls: Call[] = [];
  const connectFn: NonNullable<ConnectOptions['connect']> = (address, port, family) => {
    const socket = behave(address, port, family);
    sockets.push(socket);
    calls.push({ address, family, at: performance.now(), socket });
    return socket;
  };
  return { calls, connect: connectFn };
}

const realConnect = (address: string, port: number): Socket => connect({ host: address, port });

describe('connectHappyEyeballs', () => {
  it('tries IPv6 first and alternates families', async () => {
    const { calls, connect: connectFn } = recorder(refused);
    const lookup = fixed(v4('192.0.2.1'), v4('192.0.2.2'), v6('2001:db8::1'), v6('2001:db8::2'));
    const err = await connectHappyEyeballs({ host: 'example', port: 7, lookup, connect: connectFn }).catch((e) => e);
    expect(calls.map((c) => c.address)).toEqual(['2001:db8::1', '192.0.2.1', '2001:db8::2', '192.0.2.2']);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.attempts.map((a: { address: string }) => a.address)).toEqual(calls.map((c) => c.address));
  });

  it('starts the next attempt after attemptDelayMs while the first still hangs, and destroys the loser', async () => {
    const port = await startServer('127.0.0.1');
    const { calls, connect: connectFn } = recorder((address, p, family) => (family === 6 ? hanging() : realConnect(address, p)));
    const result = await connectHappyEyeballs({
      host: 'dual',
      port,
      attemptDelayMs: 50,
      lookup: fixed(v4('127.0.0.1'), v6('::1')),
      connect: connectFn,
    });
    sockets.push(result.socket);
    expect(calls.map((c) => c.address)).toEqual(['::1', '127.0.0.1']);
    // Timers may fire a millisecond early; what matters is that the second did not start at once.
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(40);
    expect(result).toMatchObject({ address: '127.0.0.1', family: 4, attempts: [] });
    expect(result.socket).toBe(calls[1].socket);
    expect(result.socket.destroyed).toBe(false);
    expect(calls[0].socket.destroyed).toBe(true);
  });

  it('destroys every attempt still pending when a later one wins', async () => {
    const port = await startServer('127.0.0.1');
    const { calls, connect: connectFn } = recorder((address, p) => (address === '127.0.0.1' ? realConnect(address, p) : hanging()));
    const result = await connectHappyEyeballs({
      host: 'three',
      port,
      attemptDelayMs: 10,
      lookup: fixed(v6('2001:db8::1'), v4('192.0.2.1'), v6('::1'), v4('127.0.0.1')),
      connect: connectFn,
    });
    sockets.push(result.socket);
    expect(calls.map((c) => c.address)).toEqual(['2001:db8::1', '192.0.2.1', '::1', '127.0.0.1']);
    expect(calls.slice(0, 3).every((c) => c.socket.destroyed)).toBe(true);
    expect(result.socket.destroyed).toBe(false);
  });

  it('moves to the next address at once when one is refused, without waiting out the delay', async () => {
    const port = await startServer('127.0.0.1');
    // ::1 has nothing on this port, so it is refused by the kernel; the long delay would fail the test by timeout.
    const result = await connectHappyEyeballs({
      host: 'dual',
      port,
      attemptDelayMs: 60_000,
      timeoutMs: 5_000,
      lookup: fixed(v4('127.0.0.1'), v6('::1')),
    });
    sockets.push(result.socket);
    expect(result.address).toBe('127.0.0.1');
    expect(result.attempts).toEqual([{ address: '::1', family: 6, error: 'ECONNREFUSED connection refused' }]);
  });

  it("with readyEvent 'secureConnect', waits for the handshake: a TCP connect alone does not win", async () => {
    // ::1 connects at once but its handshake never finishes; 127.0.0.1 finishes its handshake later.
    const { calls, connect: connectFn } = recorder((address) => {
      const socket = new Socket();
      setImmediate(() => socket.emit('connect'));
      if (address === '127.0.0.1') setTimeout(() => socket.emit('secureConnect'), 30);
      return socket;
    });
    const result = await connectHappyEyeballs({
      host: 'dual',
      port: 7,
      attemptDelayMs: 10,
      lookup: fixed(v6('::1'), v4('127.0.0.1')),
      connect: connectFn,
      readyEvent: 'secureConnect',
    });
    expect(result.address).toBe('127.0.0.1');
    expect(result.socket).toBe(calls[1].socket);
    expect(calls[0].socket.destroyed).toBe(true);
  });

  it("with readyEvent 'secureConnect', counts a failed handshake as that attempt's failure, with its reason", async () => {
    const { connect: connectFn } = recorder((address) => {
      const socket = new Socket();
      setImmediate(() => socket.emit('connect'));
      if (address === '::1') {
        const err = Object.assign(new Error('80AC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:350:'), {
          code: 'ERR_SSL_WRONG_VERSION_NUMBER',
          reason: 'wrong version number',
        });
        setTimeout(() => socket.destroy(err), 5);
      } else {
        setTimeout(() => socket.emit('secureConnect'), 20);
      }
      return socket;
    });
    const result = await connectHappyEyeballs({
      host: 'dual',
      port: 7,
      attemptDelayMs: 60_000,
      lookup: fixed(v6('::1'), v4('127.0.0.1')),
      connect: connectFn,
      readyEvent: 'secureConnect',
    });
    expect(result.address).toBe('127.0.0.1');
    expect(result.attempts).toEqual([{ address: '::1', family: 6, error: 'ERR_SSL_WRONG_VERSION_NUMBER wrong version number' }]);
  });

  it('lists every address tried and why when all fail', async () => {
    const port = await refusedPort();
    const err = await connectHappyEyeballs({
      host: 'localhost',
      port,
      lookup: fixed(v4('127.0.0.1'), v6('::1')),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe('COLLAB_ERR_CONNECT');
    expect(err.message).toBe(
      `could not connect to localhost port ${port}: ::1 (ECONNREFUSED connection refused), ` +
        '127.0.0.1 (ECONNREFUSED connection refused)',
    );
    expect(err.attempts).toEqual([
      { address: '::1', family: 6, error: 'ECONNREFUSED connection refused' },
      { address: '127.0.0.1', family: 4, error: 'ECONNREFUSED connection refused' },
    ]);
  });

  it('connects to localhost through the system resolver, and to an IPv6 literal', async () => {
    const port = await startServer('::');
    const byName = await connectHappyEyeballs({ host: 'localhost', port });
    sockets.push(byName.socket);
    expect(['127.0.0.1', '::1']).toContain(byName.address);
    expect(byName.socket.remotePort).toBe(port);
    const byLiteral = await connectHappyEyeballs({ host: '::1', port });
    sockets.push(byLiteral.socket);
    expect(byLiteral).toMatchObject({ address: '::1', family: 6 });
  });

  it('tries only the family asked for', async () => {
    const { calls, connect: connectFn } = recorder(refused);
    await connectHappyEyeballs({
      host: 'dual',
      port: 7,
      family: 4,
      lookup: fixed(v6('::1'), v4('127.0.0.1')),
      connect: connectFn,
    }).catch(() => undefined);
    expect(calls.map((c) => c.address)).toEqual(['127.0.0.1']);
  });

  it('turns Nagle off on the winner unless told not to', async () => {
    const port = await startServer('127.0.0.1');
    for (const noDelay of [undefined, false]) {
      const spies: jest.SpyInstance[] = [];
      const result = await connectHappyEyeballs({
        host: '127.0.0.1',
        port,
        noDelay,
        connect: (address, p) => {
          const socket = realConnect(address, p);
          spies.push(jest.spyOn(socket, 'setNoDelay'));
          return socket;
        },
      });
      sockets.push(result.socket);
      expect(spies[0]).toHaveBeenCalledWith(noDelay ?? true);
    }
  });

  it('counts an attempt whose connect throws as failed and goes on', async () => {
    const port = await startServer('127.0.0.1');
    const result = await connectHappyEyeballs({
      host: 'dual',
      port,
      lookup: fixed(v6('::1'), v4('127.0.0.1')),
      connect: (address, p) => {
        if (address === '::1') throw new Error('no route for this test');
        return realConnect(address, p);
      },
    });
    sockets.push(result.socket);
    expect(result.attempts).toEqual([{ address: '::1', family: 6, error: 'no route for this test' }]);
  });

  it('gives up after timeoutMs with ConnectError, marking the hanging attempts timed out', async () => {
    const { calls, connect: connectFn } = recorder(hanging);
    const err = await connectHappyEyeballs({
      host: 'blackhole',
      port: 7,
      attemptDelayMs: 20,
      timeoutMs: 200,
      lookup: fixed(v6('2001:db8::1'), v4('192.0.2.1')),
      connect: connectFn,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toBe('could not connect to blackhole port 7 within 200 ms: 2001:db8::1 (timed out), 192.0.2.1 (timed out)');
    expect(err.attempts.map((a: { error: string }) => a.error)).toEqual(['timed out', 'timed out']);
    expect(calls.every((c) => c.socket.destroyed)).toBe(true);
  });

  it('times out with ConnectError while the name is still resolving', async () => {
    const err = await connectHappyEyeballs({
      host: 'slowdns',
      port: 7,
      timeoutMs: 50,
      lookup: () => new Promise<ResolvedAddress[]>(() => undefined),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toBe('could not connect to slowdns port 7 within 50 ms: timed out while resolving the name');
    expect(err.attempts).toEqual([]);
  });

  it('passes HostNotFoundError through when the name does not resolve', async () => {
    const lookup: Lookup = async () => Promise.reject(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }));
    const err = await connectHappyEyeballs({ host: 'nosuch.invalid', port: 7, lookup }).catch((e) => e);
    expect(err).toBeInstanceOf(HostNotFoundError);
    expect(err.message).toBe('host "nosuch.invalid" was not found (ENOTFOUND)');
  });

  it('stops and destroys every attempt when the signal aborts', async () => {
    const controller = new AbortController();
    const { calls, connect: connectFn } = recorder((address) => {
      if (address === '::1') setTimeout(() => controller.abort(), 10);
      return hanging();
    });
    const err = await connectHappyEyeballs({
      host: 'dual',
      port: 7,
      attemptDelayMs: 1_000,
      lookup: fixed(v6('::1'), v4('127.0.0.1')),
      connect: connectFn,
      signal: controller.signal,
    }).catch((e) => e);
    expect(err).toBe(controller.signal.reason);
    expect(err.name).toBe('AbortError');
    expect(calls).toHaveLength(1);
    expect(calls[0].socket.destroyed).toBe(true);
  });

  it('does not start at all when the signal is already aborted', async () => {
    const { calls, connect: connectFn } = recorder(hanging);
    const signal = AbortSignal.abort();
    await expect(connectHappyEyeballs({ host: '::1', port: 7, connect: connectFn, signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{ port: 0 }, /port must be a whole number from 1 to 65535/],
    [{ port: 7, timeoutMs: 0 }, /timeoutMs must be a positive number/],
    [{ port: 7, attemptDelayMs: -1 }, /attemptDelayMs must be/],
  ])('refuses bad options %j with InvalidAddressError', async (options, message) => {
    const err = await connectHappyEyeballs({ host: '::1', ...options }).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidAddressError);
    expect(err.message).toMatch(message);
  });
});
