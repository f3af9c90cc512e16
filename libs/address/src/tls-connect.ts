import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConnectError, TlsCertificateError } from './errors';
import { connectHappyEyeballs, type ConnectOptions, type ConnectResult } from './happy-eyeballs';

/** How a client checks the server's certificate; verification is always on. */
export interface TlsClientOptions {
  /** PEM CA certificate(s) to trust instead of the system's roots (like curl --cacert). */
  ca?: Buffer | string;
  /** Appended to the "not trusted" sentence, e.g. '(use --ca FILE to trust its CA)'. */
  untrustedHint?: string;
}

// X.509 verification results as node reports them (err.code), plus node's own name check.
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// What a TLS client sees when the server answers in plain TCP (or echoes its ClientHello back).
const NOT_TLS_CODES = [
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNEXPECTED_MESSAGE',
  'ERR_SSL_UNEXPECTED_RECORD',
];

/**
 * Happy Eyeballs over TLS: every address raced, an attempt wins only once its handshake is
 * done, and the certificate is checked against the host as typed (its name, or the IP
 * address itself for an IP literal). A certificate that fails is TlsCertificateError.
 */
export async function connectTls(options: ConnectOptions & { tls: TlsClientOptions }): Promise<ConnectResult> {
  const { host, tls } = options;
  // SNI and the name check use the name the user typed; an IP literal is checked against IP SANs.
  const servername = isIP(host) === 0 ? host : undefined;
  const rejected: NodeJS.ErrnoException[] = [];
  try {
    return await connectHappyEyeballs({
      ...options,
      readyEvent: 'secureConnect',
      connect: (address, port) => {
        const socket = tlsConnect({ host: address, port, servername, ca: tls.ca, rejectUnauthorized: true });
        const onError = (error: NodeJS.ErrnoException) => {
          if (CERTIFICATE_CODES.has(error.code ?? '')) rejected.push(error);
        };
        socket.once('error', onError);
        socket.once('secureConnect', () => socket.off('error', onError));
        return socket;
      },
    });
  } catch (error) {
    if (error instanceof ConnectError && rejected.length > 0) throw certificateError(host, rejected[0], tls.untrustedHint);
    if (error instanceof ConnectError && error.attempts.some((a) => NOT_TLS_CODES.some((code) => a.error.startsWith(code)))) {
      throw new ConnectError(`${error.message}; the server does not seem to speak TLS`, error.attempts, { cause: error });
    }
    throw error;
  }
}

function certificateError(host: string, error: NodeJS.ErrnoException, hint: string | undefined): TlsCertificateError {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const { reason } = error as { reason?: string };
    return new TlsCertificateError(host, code, `the server's certificate is not valid for ${host}: ${reason ?? error.message}`, {
      cause: error,
    });
  }
  const suffix = hint ? ` ${hint}` : '';
  return new TlsCertificateError(host, code, `the server's certificate is not trusted: ${error.message}${suffix}`, { cause: error });
}
