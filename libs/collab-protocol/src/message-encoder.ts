import * as encoding from 'lib0/encoding';
import { encodeFrame } from '@collab/framing';
import { InvalidMessageError } from './errors';
import { MessageType, isSyncType } from './message-type';
import type { Message } from './messages';

// lib0 writes garbage for negative or fractional numbers and throws nothing, so our own
// mistakes are caught here rather than on the peer, as a "malformed body" ERROR 3.
function writeUint(encoder: encoding.Encoder, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidMessageError(`${field} must be a whole number from 0 to 2^53 - 1 (got ${String(value)}).`);
  }
  encoding.writeVarUint(encoder, value);
}

function writeString(encoder: encoding.Encoder, value: string, field: string): void {
  if (typeof value !== 'string') throw new InvalidMessageError(`${field} must be a string (got ${typeof value}).`);
  encoding.writeVarString(encoder, value);
}

function checkBytes(value: Uint8Array, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidMessageError(`${field} must be a Uint8Array.`);
  return value;
}

function writeBody(encoder: encoding.Encoder, msg: Message): void {
  switch (msg.type) {
    case MessageType.Sync:
      if (!isSyncType(msg.syncType)) {
        throw new InvalidMessageError(`SYNC syncType must be 0, 1 or 2 (got ${String(msg.syncType)}).`);
      }
      encoding.writeVarUint(encoder, msg.syncType);
      encoding.writeVarUint8Array(encoder, checkBytes(msg.data, 'SYNC data'));
      return;
    case MessageType.Awareness:
      encoding.writeVarUint8Array(encoder, checkBytes(msg.update, 'AWARENESS update'));
      return;
    case MessageType.Auth:
      // Raw, not length-prefixed: the body is y-protocols' auth message as it stands.
      encoding.writeUint8Array(encoder, checkBytes(msg.body, 'AUTH body'));
      return;
    case MessageType.Hello:
      writeUint(encoder, msg.version, 'HELLO version');
      writeString(encoder, msg.document, 'HELLO document');
      writeString(encoder, msg.clientName, 'HELLO clientName');
      writeString(encoder, msg.token, 'HELLO token');
      return;
    case MessageType.Welcome:
      writeUint(encoder, msg.version, 'WELCOME version');
      writeString(encoder, msg.server, 'WELCOME server');
      writeString(encoder, msg.document, 'WELCOME document');
      writeUint(encoder, msg.maxFrameBytes, 'WELCOME maxFrameBytes');
      return;
    case MessageType.Error:
      writeUint(encoder, msg.code, 'ERROR code');
      writeString(encoder, msg.message, 'ERROR message');
      return;
    case MessageType.Ack:
      writeUint(encoder, msg.count, 'ACK count');
      return;
    case MessageType.QueryAwareness:
    case MessageType.Ping:
    case MessageType.Pong:
    case MessageType.Flush:
    case MessageType.Flushed:
      return;
    default: {
      const unknown: { type?: unknown } = msg;
      throw new InvalidMessageError(`Cannot encode a message of unknown type ${String(unknown.type)}.`);
    }
  }
}

/**
 * Encodes a message as a frame payload (no frame header). Strings are written as UTF-8, so a
 * lone surrogate becomes U+FFFD, as TextEncoder does everywhere.
 */
export function encodeMessage(msg: Message): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, msg.type);
  writeBody(encoder, msg);
  return encoding.toUint8Array(encoder);
}

/** Encodes a message with its frame header, ready for one socket write; throws FrameTooLargeError beyond maxFrameBytes. */
export function encodeMessageFrame(msg: Message, maxFrameBytes?: number): Buffer {
  return encodeFrame(encodeMessage(msg), maxFrameBytes);
}
