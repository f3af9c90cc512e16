// The one reader of an instance: a blocking XREAD over the streams of every document it has open,
// on a connection of its own (a blocked connection can do nothing else). Each batch is handed to
// its document, which applies and relays what other instances added, and (the lease holder) folds
// it into the files. A document opened while the read is blocked wakes it (CLIENT UNBLOCK), so it
// is read from at once; without that it would wait for the block to time out.

import type { Redis } from 'ioredis';

/** A document the reader reads for. */
export interface StreamSubscriber {
  readonly streamKey: string;
  /** The last id it has seen: the read goes on after it. */
  readonly cursor: string;
  /** New entries, in order: [id, fields] as XREAD returns them. */
  receive(entries: Array<[Buffer, Buffer[]]>): void;
}

/** Longest a read blocks; a document opened meanwhile wakes it sooner. */
const BLOCK_MS = 2000;
/** Most entries read per stream per read. */
const BATCH = 1000;

/** Reads the streams of every open document, one blocking XREAD at a time. */
export class StreamReader {
  private readonly subscribers = new Map<string, StreamSubscriber>();
  private readerId: number | null = null;
  private blocked = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(
    private readonly reader: Redis,
    private readonly command: Redis,
    private readonly warn: (message: string) => void,
  ) {
    reader.on('ready', () => {
      reader.call('CLIENT', 'ID').then(
        (id) => (this.readerId = Number(id)),
        () => (this.readerId = null),
      );
    });
    this.loop = this.run();
  }

  /** Reads for `subscriber` from its cursor on. */
  add(subscriber: StreamSubscriber): void {
    this.subscribers.set(subscriber.streamKey, subscriber);
    this.interrupt();
  }

  /** Stops reading for it (it gets nothing more). */
  remove(subscriber: StreamSubscriber): void {
    if (this.subscribers.get(subscriber.streamKey) === subscriber) this.subscribers.delete(subscriber.streamKey);
  }

  /** Ends the loop (the connection is closed by its owner); resolves once it has. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.interrupt();
    await this.loop;
  }

  private interrupt(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (this.blocked && this.readerId !== null) this.command.call('CLIENT', 'UNBLOCK', String(this.readerId)).catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const subscribers = [...this.subscribers.values()];
      if (!subscribers.length) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      try {
        this.blocked = true;
        reply = (await this.reader.xreadBuffer(
          'COUNT',
          BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...subscribers.map((s) => s.streamKey),
          ...subscribers.map((s) => s.cursor),
        )) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        // The connection retries by itself; the next read starts from each cursor again.
        if (failures++ === 0) this.warn(`Reading the document streams from Redis failed (retrying): ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * failures)));
        continue;
      } finally {
        this.blocked = false;
      }
      for (const [key, entries] of reply ?? []) {
        const subscriber = this.subscribers.get(key.toString());
        if (!subscriber || !entries.length) continue;
        try {
          subscriber.receive(entries);
        } catch (error) {
          this.warn(`Applying updates from ${key.toString()} failed: ${(error as Error).message}`);
        }
      }
    }
  }
}
