import { DEFAULT_ERROR_MESSAGES, ErrorCode, MessageType, SyncType } from './message-type';

// Byte fields of decoded messages are views into the payload they came from (no copy), as
// @collab/framing's payloads are views into socket chunks: copy them to keep them for long.

/** SYNC (0): a y-protocols sync message; `data` is a state vector (step 1) or a Yjs update (step 2, update). */
export interface SyncMessage {
  readonly type: MessageType.Sync;
  readonly syncType: SyncType;
  readonly data: Uint8Array;
}

/** AWARENESS (1): an update from y-protocols `encodeAwarenessUpdate`, opaque at this layer. */
export interface AwarenessMessage {
  readonly type: MessageType.Awareness;
  readonly update: Uint8Array;
}

/** AUTH (2), reserved: kept as the raw bytes after the type so it survives a round trip unchanged; version 1 gives it no meaning. */
export interface AuthMessage {
  readonly type: MessageType.Auth;
  readonly body: Uint8Array;
}

/** QUERY_AWARENESS (3): asks the server for the awareness states of every peer. */
export interface QueryAwarenessMessage {
  readonly type: MessageType.QueryAwareness;
}

/** HELLO (100): the client's first frame; `token` is '' when the client has none. */
export interface HelloMessage {
  readonly type: MessageType.Hello;
  readonly version: number;
  readonly document: string;
  readonly clientName: string;
  readonly token: string;
}

/** WELCOME (101): the server's acceptance of a HELLO; `server` is its name and version. */
export interface WelcomeMessage {
  readonly type: MessageType.Welcome;
  readonly version: number;
  readonly server: string;
  readonly document: string;
  readonly maxFrameBytes: number;
}

/** ERROR (102): sent right before the server closes; `code` is usually an ErrorCode but may be a newer one. */
export interface ErrorMessage {
  readonly type: MessageType.Error;
  readonly code: number;
  readonly message: string;
}

/** ACK (103): the first `count` document-changing frames of this connection are durably stored. */
export interface AckMessage {
  readonly type: MessageType.Ack;
  readonly count: number;
}

/** PING (104): either side may send it at any time; the other answers PONG. */
export interface PingMessage {
  readonly type: MessageType.Ping;
}

/** PONG (105): the answer to a PING. */
export interface PongMessage {
  readonly type: MessageType.Pong;
}

/** FLUSH (106): asks the server to write the document's plain-text file (NAME.txt) now. */
export interface FlushMessage {
  readonly type: MessageType.Flush;
}

/** FLUSHED (107): the answer to FLUSH, once NAME.txt holds every change the server had when FLUSH arrived. */
export interface FlushedMessage {
  readonly type: MessageType.Flushed;
}

/** Every message of PROTOCOL.md version 1; switch on `type` to narrow it. */
export type Message =
  | SyncMessage
  | AwarenessMessage
  | AuthMessage
  | QueryAwarenessMessage
  | HelloMessage
  | WelcomeMessage
  | ErrorMessage
  | AckMessage
  | PingMessage
  | PongMessage
  | FlushMessage
  | FlushedMessage;

/** Builds an ERROR, with the code's default text unless a more specific sentence is given. */
export function makeErrorMessage(code: ErrorCode, message: string = DEFAULT_ERROR_MESSAGES[code]): ErrorMessage {
  return { type: MessageType.Error, code, message };
}
