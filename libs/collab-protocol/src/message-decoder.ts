import * as decoding from 'lib0/decoding';
import { ProtocolError } from './errors';
import { ErrorCode, MessageType, PROTOCOL_VERSION, isSyncType } from './message-type';
import type { HelloMessage, Message, WelcomeMessage } from './messages';

// lib0 decodes strings leniently on some platforms; a peer's bad bytes must be refused, not
// silently turned into U+FFFD. ignoreBOM keeps a leading U+FEFF, so strings round-trip exactly.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads the fields of one payload, turning every way it can be wrong into a ProtocolError naming the field. */
class PayloadReader {
  private readonly decoder: decoding.Decoder;

  // The message's name once its type is known, so each sentence says which message was wrong.
  messageName = 'incoming';

  constructor(payload: Uint8Array) {
    this.decoder = decoding.createDecoder(payload);
  }

  uint(field: string): number {
    if (!decoding.hasContent(this.decoder)) throw this.error(`ends before its ${field}`);
    const start = this.decoder.pos;
    let value: number;
    try {
      value = decoding.readVarUint(this.decoder);
    } catch (cause) {
      // lib0 throws for both; a final byte (high bit clear) somewhere ahead means it was the range.
      const ends = this.decoder.arr.subarray(start).some((byte) => byte < 0x80);
      throw this.error(ends ? `has a ${field} larger than 2^53 - 1` : `has a ${field} that is not a complete varUint`, cause);
    }
    // lib0 only checks the range between bytes, so a last byte can still push past 2^53,
    // and a long run of 0x80 bytes yields NaN; neither is a number we could act on.
    if (!Number.isSafeInteger(value)) throw this.error(`has a ${field} larger than 2^53 - 1`);
    return value;
  }

  bytes(field: string): Uint8Array {
    const length = this.uint(`${field} length`);
    const remaining = this.decoder.arr.length - this.decoder.pos;
    if (length > remaining) {
      throw this.error(`declares a ${field} of ${length} bytes, but only ${remaining} bytes follow`);
    }
    return decoding.readUint8Array(this.decoder, length);
  }

  string(field: string): string {
    const bytes = this.bytes(field);
    try {
      return utf8.decode(bytes);
    } catch (cause) {
      throw this.error(`has a ${field} that is not valid UTF-8`, cause);
    }
  }

  tail(): Uint8Array {
    return decoding.readTailAsUint8Array(this.decoder);
  }

  private error(problem: string, cause?: unknown): ProtocolError {
    return new ProtocolError(`The ${this.messageName} message ${problem}.`, ErrorCode.ProtocolError, { cause });
  }
}

// A peer of another version may lay out HELLO / WELCOME differently after the version field;
// then the honest answer is "unsupported version" (ERROR 5), not "malformed" (ERROR 3).
function readVersioned<T>(reader: PayloadReader, readRest: (version: number) => T): T {
  const version = reader.uint('protocol version');
  try {
    return readRest(version);
  } catch (err) {
    if (version === PROTOCOL_VERSION || !(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(
      `Protocol version ${version} is not supported (this side speaks version ${PROTOCOL_VERSION}), and its message could not be read: ${err.message}`,
      ErrorCode.UnsupportedVersion,
      { cause: err },
    );
  }
}

function readHello(reader: PayloadReader): HelloMessage {
  return readVersioned(reader, (version) => ({
    type: MessageType.Hello,
    version,
    document: reader.string('document name'),
    clientName: reader.string('client name'),
    token: reader.string('token'),
  }));
}

function readWelcome(reader: PayloadReader): WelcomeMessage {
  return readVersioned(reader, (version) => ({
    type: MessageType.Welcome,
    version,
    server: reader.string('server name'),
    document: reader.string('document name'),
    maxFrameBytes: reader.uint('max frame size'),
  }));
}

const NAMES: Readonly<Record<MessageType, string>> = {
  [MessageType.Sync]: 'SYNC',
  [MessageType.Awareness]: 'AWARENESS',
  [MessageType.Auth]: 'AUTH',
  [MessageType.QueryAwareness]: 'QUERY_AWARENESS',
  [MessageType.Hello]: 'HELLO',
  [MessageType.Welcome]: 'WELCOME',
  [MessageType.Error]: 'ERROR',
  [MessageType.Ack]: 'ACK',
  [MessageType.Ping]: 'PING',
  [MessageType.Pong]: 'PONG',
  [MessageType.Flush]: 'FLUSH',
  [MessageType.Flushed]: 'FLUSHED',
};

/** The name PROTOCOL.md gives a message type (e.g. 'HELLO'), for logs and error sentences. */
export function messageTypeName(type: number): string {
  return Object.prototype.hasOwnProperty.call(NAMES, type) ? NAMES[type as MessageType] : `unknown type ${type}`;
}

function readMessage(payload: Uint8Array): Message {
  if (payload.length === 0) throw new ProtocolError('The payload is empty, so it has no message type.');
  const reader = new PayloadReader(payload);
  const type = reader.uint('message type');
  if (!Object.prototype.hasOwnProperty.call(NAMES, type)) {
    throw new ProtocolError(`The message type ${type} is unknown to protocol version ${PROTOCOL_VERSION}.`);
  }
  reader.messageName = NAMES[type as MessageType];
  // Bytes after the listed fields are ignored on purpose: PROTOCOL.md reserves them for version 2.
  switch (type as MessageType) {
    case MessageType.Sync: {
      const syncType = reader.uint('sync type');
      if (!isSyncType(syncType)) {
        throw new ProtocolError(`The SYNC message has the unknown sync type ${syncType}; expected 0 (step 1), 1 (step 2) or 2 (update).`);
      }
      return { type: MessageType.Sync, syncType, data: reader.bytes('sync data') };
    }
    case MessageType.Awareness:
      return { type: MessageType.Awareness, update: reader.bytes('awareness update') };
    case MessageType.Auth:
      return { type: MessageType.Auth, body: reader.tail() };
    case MessageType.QueryAwareness:
      return { type: MessageType.QueryAwareness };
    case MessageType.Hello:
      return readHello(reader);
    case MessageType.Welcome:
      return readWelcome(reader);
    case MessageType.Error:
      return { type: MessageType.Error, code: reader.uint('error code'), message: reader.string('error message') };
    case MessageType.Ack:
      return { type: MessageType.Ack, count: reader.uint('acknowledged count') };
    case MessageType.Ping:
      return { type: MessageType.Ping };
    case MessageType.Pong:
      return { type: MessageType.Pong };
    case MessageType.Flush:
      return { type: MessageType.Flush };
    case MessageType.Flushed:
      return { type: MessageType.Flushed };
  }
}

/**
 * Decodes one frame payload. Throws only ProtocolError (errorCode 3, or 5 for a HELLO/WELCOME
 * of another version that cannot be read); byte fields are views into `payload`, not copies.
 */
export function decodeMessage(payload: Uint8Array): Message {
  try {
    return readMessage(payload);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    // Nothing above should throw anything else; if lib0 ever does, the peer still gets ERROR 3.
    throw new ProtocolError(
      `The payload could not be decoded: ${err instanceof Error ? err.message : String(err)}.`,
      ErrorCode.ProtocolError,
      { cause: err },
    );
  }
}
