/** The protocol version this library speaks; HELLO and WELCOME carry it. */
export const PROTOCOL_VERSION = 1;

/** Payload type, the leading varUint of every payload (PROTOCOL.md "Payload"); 0–3 are y-websocket's own numbers. */
export enum MessageType {
  Sync = 0,
  Awareness = 1,
  Auth = 2,
  QueryAwareness = 3,
  Hello = 100,
  Welcome = 101,
  Error = 102,
  Ack = 103,
  Ping = 104,
  Pong = 105,
  Flush = 106,
  Flushed = 107,
}

/** Kind of a SYNC message, numbered as y-protocols/sync numbers them. */
export enum SyncType {
  Step1 = 0,
  Step2 = 1,
  Update = 2,
}

/** Code carried by ERROR (PROTOCOL.md "Error codes"); a server may send codes newer than this list. */
export enum ErrorCode {
  ServerFull = 1,
  AuthFailed = 2,
  ProtocolError = 3,
  FrameTooLarge = 4,
  UnsupportedVersion = 5,
  BadDocumentName = 6,
  StorageUnavailable = 7,
  Timeout = 8,
  ShuttingDown = 9,
  DocumentTooLarge = 10,
}

/** Text a server sends with each ERROR when it has nothing more specific; ERROR 1's is fixed by PROTOCOL.md. */
export const DEFAULT_ERROR_MESSAGES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  [ErrorCode.ServerFull]: 'Server is full. Please try again later.',
  [ErrorCode.AuthFailed]: 'Authentication failed: the token is missing or wrong.',
  [ErrorCode.ProtocolError]: 'Protocol error: the server could not understand a message.',
  [ErrorCode.FrameTooLarge]: 'A frame was larger than the server accepts.',
  [ErrorCode.UnsupportedVersion]: `Unsupported protocol version: this server speaks version ${PROTOCOL_VERSION}.`,
  [ErrorCode.BadDocumentName]: 'Bad document name: use 1 to 64 characters from A-Z a-z 0-9 . _ - and do not start with a dot.',
  [ErrorCode.StorageUnavailable]: 'The server cannot store edits right now (storage unavailable).',
  [ErrorCode.Timeout]: 'The connection timed out.',
  [ErrorCode.ShuttingDown]: 'The server is shutting down.',
  [ErrorCode.DocumentTooLarge]: 'The document is too large.',
});

/** Whether `code` is one this version of the protocol defines (an ERROR may carry a newer one). */
export function isKnownErrorCode(code: number): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(DEFAULT_ERROR_MESSAGES, code);
}

/** Whether `type` is a payload type this version of the protocol defines. */
export function isMessageType(type: number): type is MessageType {
  return typeof MessageType[type as MessageType] === 'string';
}

/** Whether `value` is one of the three sync types y-protocols defines. */
export function isSyncType(value: unknown): value is SyncType {
  return value === SyncType.Step1 || value === SyncType.Step2 || value === SyncType.Update;
}
