import { connect, createServer, type ListenOptions, type Server, type Socket } from 'node:net';
import { ListenError } from './errors';
import { listenDualStack, listenFailureReason } from './listen-dual-stack';

const servers: Server[] = [];
const sockets: Socket[] = [];

// Server sides of test connections are ended at once and may see the client's reset.
function track(server: Server): Server {
  servers.push(server);
  server.on('connection', (socket) => socket.on('error', () => undefined).end());
  return server;
}

afterEach(async () => {
  jest.restoreAllMocks();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
});

function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    sockets.push(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen' });
}

describe('listenDualStack', () => {
  it('listens on :: dual stack by default and takes both IPv6 and IPv4 clients', async () => {
    const server = track(createServer());
    const result = await listenDualStack(server, { port: 0 });
    expect(result).toEqual({ address: '::', port: expect.any(Number), family: 6, dualStack: true });
    await connectTo('::1', result.port);
    await connectTo('127.0.0.1', result.port);
  });

  it('listens on the one address given, not dual stack', async () => {
    const server = track(createServer());
    const result = await listenDualStack(server, { host: '127.0.0.1', port: 0 });
    expect(result).toMatchObject({ address: '127.0.0.1', family: 4, dualStack: false });
    const v6 = await listenDualStack(track(createServer()), { host: '::1', port: 0 });
    expect(v6).toMatchObject({ address: '::1', family: 6, dualStack: false });
  });

  it('rejects with ListenError saying the port is in use, and leaves the server closed', async () => {
    const first = await listenDualStack(track(createServer()), { port: 0 });
    const second = track(createServer());
    const err = await listenDualStack(second, { port: first.port }).catch((e) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect(err.code).toBe('COLLAB_ERR_LISTEN');
    expect(err.message).toBe(`cannot listen on [::]:${first.port}: port ${first.port} is already in use`);
    expect(err.cause.code).toBe('EADDRINUSE');
    expect(second.listening).toBe(false);
    // Not half-listening: the same server can listen again elsewhere.
    await expect(listenDualStack(second, { port: 0 })).resolves.toMatchObject({ dualStack: true });
  });

  it('falls back to 0.0.0.0 when the host has no IPv6', async () => {
    const server = track(createServer());
    const realListen = server.listen.bind(server) as (options: ListenOptions) => Server;
    const hosts: Array<string | undefined> = [];
    jest.spyOn(server, 'listen').mockImplementation(((options: ListenOptions) => {
      hosts.push(options.host);
      if (options.host === '::') {
        process.nextTick(() => server.emit('error', systemError('EAFNOSUPPORT')));
        return server;
      }
      return realListen(options);
    }) as Server['listen']);
    const result = await listenDualStack(server, { port: 0 });
    expect(hosts).toEqual(['::', '0.0.0.0']);
    expect(result).toMatchObject({ address: '0.0.0.0', family: 4, dualStack: false });
    await connectTo('127.0.0.1', result.port);
  });

  it('does not fall back when :: fails for another reason', async () => {
    const server = track(createServer());
    jest.spyOn(server, 'listen').mockImplementation((() => {
      process.nextTick(() => server.emit('error', systemError('EACCES')));
      return server;
    }) as unknown as Server['listen']);
    const err = await listenDualStack(server, { port: 80 }).catch((e) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect(err.message).toMatch(/^cannot listen on \[::\]:80: permission denied/);
    expect(server.listen).toHaveBeenCalledTimes(1);
  });

  it('rejects a port outside 0..65535 before touching the server', async () => {
    const server = track(createServer());
    await expect(listenDualStack(server, { port: 70000 })).rejects.toThrow(/from 0 to 65535/);
    expect(server.listening).toBe(false);
  });

  it('rejects with ListenError when the server is already listening', async () => {
    const server = track(createServer());
    await listenDualStack(server, { host: '127.0.0.1', port: 0 });
    await expect(listenDualStack(server, { host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(ListenError);
    expect(server.listening).toBe(true);
  });
});

describe('listenFailureReason', () => {
  it.each([
    ['EADDRINUSE', 8081, 'port 8081 is already in use'],
    ['EACCES', 8081, 'permission denied'],
    ['EACCES', 80, 'permission denied (ports below 1024 need administrator rights)'],
    ['EADDRNOTAVAIL', 8081, 'that address does not belong to this machine'],
  ])('explains %s on port %d', (code, port, expected) => {
    expect(listenFailureReason(systemError(code), port)).toBe(expected);
  });
});
