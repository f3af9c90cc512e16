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
