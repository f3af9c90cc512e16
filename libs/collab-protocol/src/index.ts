export {
  PROTOCOL_VERSION,
  MessageType,
  SyncType,
  ErrorCode,
  DEFAULT_ERROR_MESSAGES,
  isKnownErrorCode,
  isMessageType,
  isSyncType,
} from './message-type';
export { CollabProtocolError, ProtocolError, BadDocumentNameError, InvalidMessageError } from './errors';
export type {
  Message,
  SyncMessage,
  AwarenessMessage,
  AuthMessage,
  QueryAwarenessMessage,
  HelloMessage,
  WelcomeMessage,
  ErrorMessage,
  AckMessage,
  PingMessage,
  PongMessage,
  FlushMessage,
  FlushedMessage,
} from './messages';
export { makeErrorMessage } from './messages';
export { encodeMessage, encodeMessageFrame } from './message-encoder';
export { decodeMessage, messageTypeName } from './message-decoder';
export { DEFAULT_DOCUMENT, TEXT_NAME, MAX_DOCUMENT_NAME_LENGTH, validateDocumentName, isValidDocumentName } from './document-name';
export { checkHello, makeHello, makeWelcome, checkWelcome } from './handshake';
export type { HelloCheckOptions, HelloDecision, WelcomeCheckOptions, WelcomeDecision } from './handshake';
export { describeServerError, isRetryableErrorCode } from './server-error';
export { tokensMatch } from './token';
export { CollabSession, sessionError } from './collab-session';
export type { CollabSessionOptions, SessionEnd } from './collab-session';
export { ReconnectingClient } from './reconnecting-client';
export type { ReconnectingClientOptions, ConnectionState } from './reconnecting-client';
export { LineUpdates, QUIET_MS, plainTextLine, lineModeText, appendLine, insertedNewlines } from './line-updates';
export type { LineUpdate, LineUpdatesOptions } from './line-updates';
