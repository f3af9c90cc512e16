// Test doubles of @collab/collab-core, for tests only (never imported by shipped code):
// `import { MemoryTransport, captureLogger } from '@collab/collab-core/testing'`.
import { PassThrough } from 'node:stream';
import * as encoding from 'lib0/encoding';
import { decodeMessage, encodeMessage, makeErrorMessage, type Message } from '@collab/collab-protocol';
import { createLogger, type Logger } from '@collab/logging';
import type { TextConnection, TextTransport } from './text-transport';
import type { Connection, Refusal, Transport } from './transport';

let nextPort = 40000;

/** A transport with no bytes at all: messages in with deliver(), out in `sent`; closing is reported on the next microtask, as a socket's 'close' would come later. */
export class MemoryTransport implements Transport {
  readonly remoteLabel: string;
  /** Every payload the core sent, in order. */
  readonly payloads: Uint8Array[] = [];
  connection: Connection | undefined;
  /** Set once close() was called; `refusal` is what it was closed with. */
  closed = false;
  refusal: Refusal | undefined;
  paused = false;

  constructor(readonly remoteAddress = '127.0.0.1') {
    this.remoteLabel = remoteAddress.includes(':') ? `[${remoteAddress}]:${nextPort++}` : `${remoteAddress}:${nextPort++}`;
  }

  /** The messages the core sent, decoded. */
  get sent(): Message[] {
    return this.payloads.map((p) => decodeMessage(p));
  }

  /** Hands a message to the connection, as if the client had sent it. */
  deliver(message: Message): void {
    this.connection?.receive(encodeMessage(message));
  }

  /** The client goes away (its socket closed). */
  hangUp(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection?.closed();
  }

  send(payload: Uint8Array): void {
    if (!this.closed) this.payloads.push(payload);
  }

  close(refusal?: Refusal): void {
    if (this.closed) return;
    if (refusal) this.payloads.push(encodeMessage(makeErrorMessage(refusal.code, refusal.message)));
    this.closed = true;
    this.refusal = refusal;
    queueMicrotask(() => this.connection?.closed());
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}

/** A plain-text transport with no bytes on a wire: text in with type(), out in `output`; closing is reported on the next microtask. */
export class MemoryTextTransport implements TextTransport {
  readonly remoteLabel: string;
  /** Everything the core wrote, in order. */
  output = '';
  connection: TextConnection | undefined;
  closed = false;
  /** The last line close() was given. */
  farewell: string | undefined;
  paused = false;

  constructor(readonly remoteAddress = '127.0.0.1') {
    this.remoteLabel = remoteAddress.includes(':') ? `[${remoteAddress}]:${nextPort++}` : `${remoteAddress}:${nextPort++}`;
  }

  /** Hands text (or bytes) to the connection, as if the client had sent it. */
  type(text: string | Uint8Array): void {
    this.connection?.receive(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  }

  /** The client closes its side. */
  end(): void {
    this.connection?.ended();
  }

  /** The client goes away. */
  hangUp(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection?.closed();
  }

  write(text: string): void {
    if (!this.closed) this.output += text;
  }

  close(farewell?: string): void {
    if (this.closed) return;
    if (farewell) this.output += farewell;
    this.farewell = farewell;
    this.closed = true;
    queueMicrotask(() => this.connection?.closed());
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}

/** A logger whose lines (`[WARN] ...`) are kept in `lines`. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level, stream }), lines };
}

/** An awareness update with these entries (y-protocols' format), states as JSON text; no validation, so tests can send anything. */
export function encodeAwarenessEntries(...entries: Array<[id: number, clock: number, json: string]>): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const [id, clock, json] of entries) {
    encoding.writeVarUint(encoder, id);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, json);
  }
  return encoding.toUint8Array(encoder);
}
