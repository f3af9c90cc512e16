import { ErrorCode } from './message-type';

/** Base class of every error of @collab/collab-protocol; `code` is stable for scripts and tests. */
export class CollabProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollabProtocolError';
  }
}

/** A payload that is not a valid message; `errorCode` is the ERROR the peer should get before the connection closes. */
export class ProtocolError extends CollabProtocolError {
  constructor(
    message: string,
    readonly errorCode: ErrorCode = ErrorCode.ProtocolError,
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_PROTOCOL', message, options);
    this.name = 'ProtocolError';
  }
}

// The sentence goes back to the peer in ERROR 6: a megabyte-long name must not come back whole.
function quoteName(name: string): string {
  const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  return JSON.stringify(shown);
}

/** A document name outside PROTOCOL.md's rules, so it could never be allowed near a path (ERROR 6). */
export class BadDocumentNameError extends CollabProtocolError {
  /** Always ErrorCode.BadDocumentName; present so callers can send it like a ProtocolError's. */
  readonly errorCode = ErrorCode.BadDocumentName;

  constructor(
    readonly documentName: string,
    reason: string,
  ) {
    super('COLLAB_ERR_BAD_DOCUMENT_NAME', `The document name ${quoteName(documentName)} is not allowed: ${reason}`);
    this.name = 'BadDocumentNameError';
  }
}

/** A message object our own code tried to encode that the wire format cannot carry: a bug in the caller, never the peer's fault. */
export class InvalidMessageError extends CollabProtocolError {
  constructor(message: string) {
    super('COLLAB_ERR_INVALID_MESSAGE', message);
    this.name = 'InvalidMessageError';
  }
}
