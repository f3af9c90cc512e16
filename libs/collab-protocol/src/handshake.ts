import { MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import { validateDocumentName } from './document-name';
import { BadDocumentNameError } from './errors';
import { messageTypeName } from './message-decoder';
import { DEFAULT_ERROR_MESSAGES, ErrorCode, MessageType, PROTOCOL_VERSION } from './message-type';
import type { HelloMessage, Message, WelcomeMessage } from './messages';
import { describeServerError, isRetryableErrorCode } from './server-error';
import { tokensMatch } from './token';

/** What a server accepts in a HELLO. */
export interface HelloCheckOptions {
  /** Token clients must present; undefined or '' means none is required, and a presented one is ignored. */
  token?: string;
  /** Protocol versions the server speaks (default: [PROTOCOL_VERSION]). */
  supportedVersions?: readonly number[];
}

/** The server's verdict on a client's first message: whom to welcome, or which ERROR to send before closing. */
export type HelloDecision =
  | { readonly ok: true; readonly version: number; readonly document: string; readonly clientName: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

function listVersions(versions: readonly number[]): string {
  return versions.length === 1 ? `version ${versions[0]}` : `versions ${versions.join(', ')}`;
}

/**
 * Decides on a client's first message: not a HELLO (3), then version (5), then token (2),
 * then document name (6). A client of another version is told so before anything else its
 * HELLO says is trusted, and a client without the token learns nothing about the name rules.
 */
export function checkHello(msg: Message, options: HelloCheckOptions = {}): HelloDecision {
  const supported = options.supportedVersions ?? [PROTOCOL_VERSION];
  if (msg.type !== MessageType.Hello) {
    return {
      ok: false,
      code: ErrorCode.ProtocolError,
      message: `The first message must be HELLO (type ${MessageType.Hello}), but it was ${messageTypeName(msg.type)} (type ${msg.type}).`,
    };
  }
  if (!supported.includes(msg.version)) {
    return {
      ok: false,
      code: ErrorCode.UnsupportedVersion,
      message: `Protocol version ${msg.version} is not supported; this server speaks ${listVersions(supported)}.`,
    };
  }
  if (options.token !== undefined && options.token !== '' && !tokensMatch(msg.token, options.token)) {
    return { ok: false, code: ErrorCode.AuthFailed, message: DEFAULT_ERROR_MESSAGES[ErrorCode.AuthFailed] };
  }
  try {
    validateDocumentName(msg.document);
  } catch (err) {
    if (!(err instanceof BadDocumentNameError)) throw err;
    return { ok: false, code: ErrorCode.BadDocumentName, message: err.message };
  }
  return { ok: true, version: msg.version, document: msg.document, clientName: msg.clientName };
}

/** Builds the client's HELLO for this protocol version; no token is sent as ''. */
export function makeHello(fields: { document: string; clientName: string; token?: string }): HelloMessage {
  return {
    type: MessageType.Hello,
    version: PROTOCOL_VERSION,
    document: fields.document,
    clientName: fields.clientName,
    token: fields.token ?? '',
  };
}

/** Builds the server's WELCOME; `server` is its name and version, e.g. 'collab-server 0.1.0'. */
export function makeWelcome(fields: { server: string; document: string; maxFrameBytes: number; version?: number }): WelcomeMessage {
  return {
    type: MessageType.Welcome,
    version: fields.version ?? PROTOCOL_VERSION,
    server: fields.server,
    document: fields.document,
    maxFrameBytes: fields.maxFrameBytes,
  };
}

/** What a client expects of the server's answer to its HELLO. */
export interface WelcomeCheckOptions {
  /** The document the client asked for in its HELLO. */
  document: string;
  /** Protocol versions the client speaks (default: [PROTOCOL_VERSION]). */
  supportedVersions?: readonly number[];
}

/**
 * The client's verdict on the server's first message. On failure `message` is a sentence for
 * the user; `fromServer` tells an ERROR sent by the server (its `code`) from an answer this
 * client rejects itself, and `retryable` whether reconnecting later could succeed.
 */
export type WelcomeDecision =
  | { readonly ok: true; readonly welcome: WelcomeMessage }
  | {
      readonly ok: false;
      readonly code: number;
      readonly message: string;
      readonly fromServer: boolean;
      readonly retryable: boolean;
    };

function rejectAnswer(code: ErrorCode, message: string): WelcomeDecision {
  return { ok: false, code, message, fromServer: false, retryable: false };
}

/** Decides on the server's first message: a usable WELCOME, or why the client cannot go on. */
export function checkWelcome(msg: Message, options: WelcomeCheckOptions): WelcomeDecision {
  const supported = options.supportedVersions ?? [PROTOCOL_VERSION];
  if (msg.type === MessageType.Error) {
    return {
      ok: false,
      code: msg.code,
      message: describeServerError(msg),
      fromServer: true,
      retryable: isRetryableErrorCode(msg.code),
    };
  }
  if (msg.type !== MessageType.Welcome) {
    return rejectAnswer(
      ErrorCode.ProtocolError,
      `The server answered HELLO with ${messageTypeName(msg.type)} (type ${msg.type}) instead of WELCOME.`,
    );
  }
  if (!supported.includes(msg.version)) {
    return rejectAnswer(
      ErrorCode.UnsupportedVersion,
      `The server speaks protocol version ${msg.version}, but this client speaks ${listVersions(supported)}.`,
    );
  }
  if (msg.document !== options.document) {
    return rejectAnswer(
      ErrorCode.ProtocolError,
      `The server opened the document ${JSON.stringify(msg.document)} instead of ${JSON.stringify(options.document)}.`,
    );
  }
  if (!Number.isInteger(msg.maxFrameBytes) || msg.maxFrameBytes < 1 || msg.maxFrameBytes > MAX_FRAME_BYTES_LIMIT) {
    return rejectAnswer(
      ErrorCode.ProtocolError,
      `The server announced a maximum frame size of ${msg.maxFrameBytes} bytes; it must be from 1 to ${MAX_FRAME_BYTES_LIMIT}.`,
    );
  }
  return { ok: true, welcome: msg };
}
