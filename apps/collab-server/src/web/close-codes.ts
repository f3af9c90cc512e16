// How a refusal of the core (PROTOCOL.md's ERROR codes) is said to a WebSocket client: as a
// close code and a reason, since a standard y-websocket client knows no ERROR message. The code
// follows y-websocket's convention: 4400-4499 means reconnecting cannot help (its provider then
// stops), anything else is transient (4500-4599: try again later). So 4400 + code for a refused
// token, name, protocol version or an edit past the size limit; 4500 + code for a full server, a
// failing disk, a timeout, and a protocol error: a standard client sends its edits as it types,
// even in the moment between reconnecting and answering the server's sync step 1, and such an
// edit, which needs changes the server does not have yet, is refused with ERROR 3; a reconnect
// resynchronises it and loses nothing. The standard codes where one fits: 1009 for a message
// too large, 1001 for a server going away.

import { ErrorCode, isRetryableErrorCode } from '@collab/collab-protocol';

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Standard close codes the server uses. */
export const CloseCode = {
  GoingAway: 1001,
  UnsupportedData: 1003,
  MessageTooBig: 1009,
} as const;

/** The close code that says `code` to a WebSocket client. */
export function closeCodeFor(code: ErrorCode): number {
  if (code === ErrorCode.FrameTooLarge) return CloseCode.MessageTooBig;
  if (code === ErrorCode.ShuttingDown) return CloseCode.GoingAway;
  return (isRetryableErrorCode(code) || code === ErrorCode.ProtocolError ? 4500 : 4400) + code;
}

/** `text` cut to fit a close frame (at most 123 bytes of UTF-8, never half a character), with … when cut. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  const budget = MAX_CLOSE_REASON_BYTES - Buffer.byteLength('…');
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > budget) break;
    out += char;
    bytes += size;
  }
  return `${out}…`;
}
