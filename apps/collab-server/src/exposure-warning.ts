import { formatEndpoint, isLoopback, type ListenResult } from '@collab/address';

/**
 * What to warn about at start when the server can be reached from other machines: no TLS
 * and no token (anyone can edit, and anyone on the path can read), a token in clear text,
 * or TLS without a token. Undefined on loopback, where only this machine can connect.
 */
export function exposureWarning(listen: ListenResult, security: { tls: boolean; token: boolean }): string | undefined {
  if (isLoopback(listen.address)) return undefined;
  const where = listen.dualStack ? `[::]:${listen.port}` : formatEndpoint(listen.address, listen.port);
  if (!security.tls && !security.token) {
    return `Listening on ${where} without TLS or a token: anyone who can reach this port can read and edit every document (set --token and --tls-cert/--tls-key)`;
  }
  if (!security.token) {
    return `Listening on ${where} with TLS but no token: anyone who can connect can read and edit every document (set --token)`;
  }
  if (!security.tls) {
    return `Listening on ${where} without TLS: the token and every edit cross the network unencrypted (set --tls-cert/--tls-key)`;
  }
  return undefined;
}
