import { DEFAULT_ERROR_MESSAGES, ErrorCode, isKnownErrorCode } from './message-type';
import type { ErrorMessage } from './messages';

const MAX_SHOWN_TEXT = 300;

// The server's text ends up on the user's terminal: control characters (escape sequences
// above all) must not reach it, nor a text long enough to flood the screen.
function cleanServerText(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > MAX_SHOWN_TEXT ? `${clean.slice(0, MAX_SHOWN_TEXT)}…` : clean;
}

// What the client makes of each code, in its own words; the server's text is added after it.
const CLIENT_SENTENCES: Readonly<Record<ErrorCode, string>> = {
  [ErrorCode.ServerFull]: DEFAULT_ERROR_MESSAGES[ErrorCode.ServerFull],
  [ErrorCode.AuthFailed]: 'The server refused the token.',
  [ErrorCode.ProtocolError]: 'The server could not understand this client (protocol error).',
  [ErrorCode.FrameTooLarge]: 'The server refused a message as too large.',
  [ErrorCode.UnsupportedVersion]: "The server does not support this client's protocol version.",
  [ErrorCode.BadDocumentName]: 'The server refused the document name.',
  [ErrorCode.StorageUnavailable]: 'The server cannot store edits right now.',
  [ErrorCode.Timeout]: 'The server closed the connection after a timeout.',
  [ErrorCode.ShuttingDown]: 'The server is shutting down.',
  [ErrorCode.DocumentTooLarge]: 'The document is too large for the server.',
};

/** Turns an ERROR from the server into one sentence for the user, safe to print on a terminal. */
export function describeServerError(msg: ErrorMessage): string {
  const text = cleanServerText(msg.message);
  if (!isKnownErrorCode(msg.code)) {
    return text === ''
      ? `The server closed the connection with error ${msg.code}.`
      : `The server closed the connection with error ${msg.code}. The server said: ${text}`;
  }
  // ERROR 1's text is the message users are meant to see, word for word (PROTOCOL.md).
  if (msg.code === ErrorCode.ServerFull) return text === '' ? CLIENT_SENTENCES[msg.code] : text;
  const sentence = CLIENT_SENTENCES[msg.code];
  return text === '' || text === DEFAULT_ERROR_MESSAGES[msg.code] ? sentence : `${sentence} The server said: ${text}`;
}

// Retrying helps only when the cause is on the server's side and passes: a full server, a
// disk that comes back, an idle timeout, a restart. A refused token, name or version, an
// oversized edit or a protocol bug would fail the same way again; so would codes we do not know.
const RETRYABLE: ReadonlySet<number> = new Set([
  ErrorCode.ServerFull,
  ErrorCode.StorageUnavailable,
  ErrorCode.Timeout,
  ErrorCode.ShuttingDown,
]);

/** Whether a client should reconnect (with backoff) after an ERROR with this code. */
export function isRetryableErrorCode(code: number): boolean {
  return RETRYABLE.has(code);
}
