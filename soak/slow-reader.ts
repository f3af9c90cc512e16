// A slow reader: a raw socket that says HELLO for a document, then keeps asking for the whole
// document (SYNC step 1 with an empty state vector) while it does not read for long stretches,
// so the server's output for it piles up; between stretches it reads everything at once. The
// server must neither stall the others for it nor grow without bound (it drops a reader past
// 64 MiB of unsent output; the reader then reconnects). Bounded: it stops when told to.
import { connect, type Socket } from 'node:net';
import * as Y from 'yjs';
import { encodeMessageFrame, makeHello, MessageType, SyncType } from '@collab/collab-protocol';
import type { Random } from './token-text';

export interface SlowReaderStats {
  connections: number;
  pauses: number;
  bytesRead: number;
  /** Connections the server closed (killed server, send buffer limit, idle timeout). */
  closedByServer: number;
}

export class SlowReader {
  readonly stats: SlowReaderStats = { connections: 0, pauses: 0, bytesRead: 0, closedByServer: 0 };
  private socket: Socket | undefined;
  private running = false;
  private timers = new Set<NodeJS.Timeout>();
  private readonly emptyStateVector = Y.encodeStateVector(new Y.Doc());

  constructor(
    private readonly id: number,
    private readonly document: string,
    private readonly port: number,
    private readonly random: Random,
    /** Longest pause in reading, ms. */
    private readonly maxPauseMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.open();
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.socket?.destroy();
    this.socket = undefined;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private open(): void {
    const socket = connect({ host: this.id % 2 ? '::1' : '127.0.0.1', port: this.port });
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (this.stats.bytesRead += chunk.length));
    socket.on('connect', () => {
      this.stats.connections++;
      socket.write(encodeMessageFrame(makeHello({ document: this.document, clientName: `slow${this.id}`, token: '' })));
      this.cycle(socket);
    });
    socket.on('close', () => {
      if (this.socket !== socket || !this.running) return;
      this.stats.closedByServer++;
      this.later(this.random.int(200, 1500), () => this.open());
    });
  }

  /** Reads for a moment, then pauses for a long stretch asking for the document meanwhile. */
  private cycle(socket: Socket): void {
    if (socket.destroyed || !this.running) return;
    socket.resume();
    this.later(this.random.int(300, 1500), () => {
      if (socket.destroyed) return;
      socket.pause();
      this.stats.pauses++;
      const pauseMs = this.random.int(Math.min(2000, this.maxPauseMs), this.maxPauseMs);
      const until = Date.now() + pauseMs;
      const ask = () => {
        if (socket.destroyed) return;
        if (Date.now() >= until) return this.cycle(socket);
        socket.write(encodeMessageFrame({ type: MessageType.Sync, syncType: SyncType.Step1, data: this.emptyStateVector }));
        this.later(500, ask);
      };
      ask();
    });
  }
}
