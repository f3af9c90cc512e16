import type { AddressInfo, ListenOptions, Server } from 'node:net';
import { describeSystemError } from './describe-system-error';
import { InvalidAddressError, ListenError } from './errors';
import { formatEndpoint } from './format-endpoint';
import { parseLiteral } from './parse-literal';
import type { Family } from './types';

/** Where a server ended up listening; `dualStack` when one '::' socket also takes IPv4 clients. */
export interface ListenResult {
  address: string;
  port: number;
  family: Family;
  dualStack: boolean;
}

/** Options of listenDualStack; port 0 picks a free port. */
export interface ListenDualStackOptions {
  /** Default '::': every interface, IPv6 and IPv4 on one socket. */
  host?: string;
  port: number;
  backlog?: number;
}

// What binding '::' fails with on a machine whose kernel or interfaces have no IPv6.
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EINVAL']);

/** Listens on '::' dual stack (or the host given), falling back to '0.0.0.0' where there is no IPv6. */
export async function listenDualStack(server: Server, options: ListenDualStackOptions): Promise<ListenResult> {
  const { port, backlog } = options;
  const host = options.host ?? '::';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidAddressError(`port must be a whole number from 0 to 65535 (got ${port})`);
  }
  const anyIPv6 = isUnspecifiedIPv6(host);
  try {
    // ipv6Only is set explicitly so a host with net.ipv6.bindv6only=1 still gets one dual-stack socket.
    await listenOnce(server, anyIPv6 ? { host, port, backlog, ipv6Only: false } : { host, port, backlog });
  } catch (err) {
    if (!(anyIPv6 && NO_IPV6.has((err as NodeJS.ErrnoException).code ?? ''))) {
      throw new ListenError(`cannot listen on ${formatEndpoint(host, port)}: ${listenFailureReason(err, port)}`, {
        cause: err,
      });
    }
    try {
      await listenOnce(server, { host: '0.0.0.0', port, backlog });
    } catch (fallbackErr) {
      throw new ListenError(
        `cannot listen on ${formatEndpoint('0.0.0.0', port)} (this machine has no IPv6): ` + listenFailureReason(fallbackErr, port),
        { cause: fallbackErr },
      );
    }
  }
  const bound = server.address() as AddressInfo;
  const family: Family = bound.family === 'IPv6' || (bound.family as unknown) === 6 ? 6 : 4;
  return { address: bound.address, port: bound.port, family, dualStack: anyIPv6 && family === 6 };
}

/** Says in a user's words why a listen failed: 'port 8081 is already in use', 'permission denied'. */
export function listenFailureReason(err: unknown, port: number): string {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use`;
    case 'EACCES':
      return port > 0 && port < 1024 ? 'permission denied (ports below 1024 need administrator rights)' : 'permission denied';
    case 'EADDRNOTAVAIL':
      return 'that address does not belong to this machine';
    case 'EAFNOSUPPORT':
      return 'this machine does not support that address family';
    default:
      return describeSystemError(err);
  }
}

function isUnspecifiedIPv6(host: string): boolean {
  const ip = parseLiteral(host);
  return ip?.kind() === 'ipv6' && ip.range() === 'unspecified';
}

// One listen attempt; on failure the server is closed so it is never left half-listening.
function listenOnce(server: Server, options: ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      if (server.listening) server.close();
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen(options);
    } catch (err) {
      server.off('error', onError);
      server.off('listening', onListening);
      reject(err);
    }
  });
}
