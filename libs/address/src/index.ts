export type { Family, HostPort, ResolvedAddress, ConnectAttempt } from './types';
export { parseHostPort, parsePort } from './parse-host-port';
export { suggestBracketedPort } from './suggest-bracketed-port';
export { normalizeAddress } from './normalize-address';
export { familyOf } from './family-of';
export { formatEndpoint } from './format-endpoint';
export { resolveHost, systemLookup } from './resolve-host';
export type { Lookup, ResolveOptions } from './resolve-host';
export { listenDualStack } from './listen-dual-stack';
export type { ListenResult, ListenDualStackOptions } from './listen-dual-stack';
export { interleaveFamilies } from './interleave-families';
export { connectHappyEyeballs } from './happy-eyeballs';
export type { ConnectOptions, ConnectResult } from './happy-eyeballs';
export { describeSystemError } from './describe-system-error';
export { isLoopback } from './is-loopback';
export { connectTls } from './tls-connect';
export type { TlsClientOptions } from './tls-connect';
export { loadServerCredentials, loadCertificateAuthority } from './tls-files';
export type { ServerCredentials } from './tls-files';
export { createTcpServer } from './create-tcp-server';
export type { TcpServerOptions, HandshakeFailure } from './create-tcp-server';
export {
  AddressError,
  InvalidAddressError,
  HostNotFoundError,
  ListenError,
  ConnectError,
  TlsFileError,
  TlsCertificateError,
} from './errors';
