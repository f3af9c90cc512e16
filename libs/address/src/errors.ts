import type { ConnectAttempt } from './types';

/** Base class of every error of @collab/address; `code` is stable for scripts and tests. */
export class AddressError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AddressError';
  }
}

/** What the user typed is not a host, an address or a port we can use. */
export class InvalidAddressError extends AddressError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_BAD_ADDRESS', message, options);
    this.name = 'InvalidAddressError';
  }
}

/** A name that did not resolve, or resolved to no address of the family asked for. */
export class HostNotFoundError extends AddressError {
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_HOST_NOT_FOUND', message, options);
    this.name = 'HostNotFoundError';
  }
}

/** A server could not start listening; `cause` is the system error. */
export class ListenError extends AddressError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_LISTEN', message, options);
    this.name = 'ListenError';
  }
}

/** Every address of a host failed (or time ran out); `attempts` says what happened to each. */
export class ConnectError extends AddressError {
  constructor(
    message: string,
    readonly attempts: readonly ConnectAttempt[],
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_CONNECT', message, options);
    this.name = 'ConnectError';
  }
}

/** A TLS certificate, key or CA file that cannot be read or used; the message names the file. */
export class TlsFileError extends AddressError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_TLS_FILE', message, options);
    this.name = 'TlsFileError';
  }
}

/** The server's certificate failed verification (untrusted, expired, or for another name). */
export class TlsCertificateError extends AddressError {
  constructor(
    readonly host: string,
    /** OpenSSL's or node's code, e.g. 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID'. */
    readonly verifyCode: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_TLS_UNTRUSTED', message, options);
    this.name = 'TlsCertificateError';
  }
}
