// Presence across instances (and FLUSH: NAME.txt written by the lease holder on another instance's
// behalf): each instance publishes the presence of its own clients on the
// document's channel (pub/sub: presence is not stored, it only matters while it is live), and
// applies what the others publish. An instance that opens a document asks the others for theirs.
// Each instance keeps a heartbeat key (PX); when one's expires (kill -9, a lost machine) the
// others drop the presence it had relayed, so its clients' cursors go away within seconds.

import type { Redis } from 'ioredis';
import { instanceKey } from './redis-keys';

/** A document as the presence channel sees it. */
export interface PresenceSubscriber {
  readonly presenceKey: string;
  /** Another instance relayed this presence update. */
  remotePresence(source: string, update: Uint8Array): void;
  /** Another instance asks for the presence of this instance's clients. */
  presenceQuery(): void;
  /** The instances whose presence it holds now. */
  readonly remoteSources: ReadonlySet<string>;
  /** `source` is gone: drop what it relayed. */
  dropSource(source: string): void;
  /** Another instance asks the lease holder to write NAME.txt with every entry up to `id`. */
  flushRequested(id: string): void;
  /** The lease holder wrote NAME.txt with every entry up to `id`. */
  flushed(id: string): void;
}

const UPDATE = 1;
const QUERY = 2;
const FLUSH = 3;
const FLUSHED = 4;

/** The pub/sub side of presence, and this instance's heartbeat. */
export class PresenceChannel {
  private readonly subscribers = new Map<string, PresenceSubscriber>();
  private readonly timer: NodeJS.Timeout;
  private readonly prefix: Buffer;

  constructor(
    private readonly subscriber: Redis,
    private readonly command: Redis,
    private readonly instanceId: string,
    private readonly keyPrefix: string,
    private readonly heartbeatMs: number,
  ) {
    this.prefix = Buffer.from(instanceId);
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message));
    this.timer = setInterval(() => void this.beat(), heartbeatMs);
    this.timer.unref();
    void this.beat();
  }

  /** Starts receiving a document's presence, and asks the other instances for theirs. */
  async join(doc: PresenceSubscriber): Promise<void> {
    this.subscribers.set(doc.presenceKey, doc);
    await this.subscriber.subscribe(doc.presenceKey);
    this.send(doc.presenceKey, QUERY, new Uint8Array());
  }

  /** Stops receiving it. */
  leave(doc: PresenceSubscriber): void {
    if (this.subscribers.get(doc.presenceKey) !== doc) return;
    this.subscribers.delete(doc.presenceKey);
    this.subscriber.unsubscribe(doc.presenceKey).catch(() => undefined);
  }

  /** Publishes the presence of this instance's clients (an awareness update). */
  publish(doc: PresenceSubscriber, update: Uint8Array): void {
    this.send(doc.presenceKey, UPDATE, update);
  }

  /** Asks the lease holder to write NAME.txt with every entry up to `id` (the same channel carries these: they are live-only too). */
  requestFlush(doc: PresenceSubscriber, id: string): void {
    this.send(doc.presenceKey, FLUSH, Buffer.from(id));
  }

  /** Tells the others NAME.txt holds every entry up to `id`. */
  announceFlushed(doc: PresenceSubscriber, id: string): void {
    this.send(doc.presenceKey, FLUSHED, Buffer.from(id));
  }

  /** Stops the heartbeat and removes this instance's key (the others drop its presence at once). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.command.del(instanceKey(this.instanceId, this.keyPrefix)).catch(() => undefined);
  }

  private send(channel: string, kind: number, payload: Uint8Array): void {
    const header = Buffer.from([kind, this.prefix.length]);
    this.command.publish(channel, Buffer.concat([header, this.prefix, payload])).catch(() => undefined);
  }

  private onMessage(channel: string, message: Buffer): void {
    const doc = this.subscribers.get(channel);
    if (!doc || message.length < 2) return;
    const kind = message[0];
    const source = message.subarray(2, 2 + message[1]!).toString();
    if (source === this.instanceId) return;
    if (kind === UPDATE) doc.remotePresence(source, message.subarray(2 + message[1]!));
    else if (kind === QUERY) doc.presenceQuery();
    else if (kind === FLUSH) doc.flushRequested(message.subarray(2 + message[1]!).toString());
    else if (kind === FLUSHED) doc.flushed(message.subarray(2 + message[1]!).toString());
  }

  /** Renews this instance's heartbeat, and drops the presence of instances whose heartbeat is gone. */
  private async beat(): Promise<void> {
    try {
      await this.command.set(instanceKey(this.instanceId, this.keyPrefix), '1', 'PX', this.heartbeatMs * 3);
      const sources = new Set<string>();
      for (const doc of this.subscribers.values()) for (const source of doc.remoteSources) sources.add(source);
      if (!sources.size) return;
      const list = [...sources];
      const alive = await Promise.all(list.map((source) => this.command.exists(instanceKey(source, this.keyPrefix))));
      const gone = new Set(list.filter((_, i) => alive[i] === 0));
      if (!gone.size) return;
      for (const doc of this.subscribers.values())
        for (const source of [...doc.remoteSources]) if (gone.has(source)) doc.dropSource(source);
    } catch {
      // Redis is away: the connection says so; presence is kept until it is back.
    }
  }
}
