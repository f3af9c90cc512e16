// A plain-text client over TCP (or TLS): nc, telnet, the assignment's client.py. The bytes it sends
// go to the core's TextConnection once telnet's commands are taken out (and refused); the text the
// core writes goes out as UTF-8. A client that does not read what it is sent is dropped before its
// backlog grows without bound, as framed clients are.

import type { Socket } from 'node:net';
import type { TextConnection, TextTransport } from '@collab/collab-core';
import type { Logger } from '@collab/logging';
import { TelnetFilter } from './telnet-filter';

/** Limits of a TcpTextTransport. */
export interface TcpTextTransportOptions {
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes: number;
  logger: Logger;
}

/** How long a closed connection may take to read its last line before it is cut. */
const LINGER_MS = 2000;

/** One plain-text TCP connection, between a socket and the core's TextConnection. */
export class TcpTextTransport implements TextTransport {
  private connection: TextConnection | undefined;
  private readonly telnet = new TelnetFilter();
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: TcpTextTransportOptions,
    readonly remoteAddress: string,
    readonly remoteLabel: string,
  ) {}

  /** Starts carrying text to and from `connection`, beginning with the bytes already read (or, when the core refused it, only lets the socket close). */
  attach(connection: TextConnection | undefined, first: Uint8Array | undefined): void {
    this.connection = connection;
    this.socket.once('close', () => this.connection?.closed());
    if (!connection) return;
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    if (first && !this.closing) this.onData(first);
  }

  write(text: string): void {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return;
    socket.write(text, 'utf8');
    if (socket.writableLength > this.options.maxSendBufferBytes) {
      this.options.logger.warn(
        `Client ${this.connection?.label ?? this.remoteLabel} is not reading (${socket.writableLength} bytes waiting); disconnecting it`,
      );
      socket.destroy();
    }
  }

  close(farewell?: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    if (farewell) this.write(farewell);
    this.socket.end();
    // A client that does not read its last line must not hold the connection open.
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closing) this.socket.resume();
  }

  private readonly onData = (chunk: Uint8Array): void => {
    const { data, replies } = this.telnet.push(chunk);
    if (replies.length > 0 && !this.socket.destroyed) this.socket.write(replies);
    if (data.length > 0) this.connection!.receive(data);
  };

  private readonly onEnd = (): void => {
    this.connection!.ended();
  };
}
