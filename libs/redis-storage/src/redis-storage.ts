// The storage of a server that shares its documents with other instances through Redis (see
// redis-document.ts for one document, README.md for the whole design). Three connections per
// instance: commands (XADD, the lease scripts, PUBLISH), the blocking reader (StreamReader) and
// the subscriber (PresenceChannel: pub/sub holds a connection to itself).

import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { DocumentStorage } from '@collab/collab-core';
import { DocumentStore, LockedError, validateDocumentName, type DocumentFiles, type StoreOptions } from '@collab/persistence';
import { requireDurability } from './durability-check';
import { RedisOptionError, RedisUnreachableError } from './errors';
import { PresenceChannel } from './presence-channel';
import { documentKeys } from './redis-keys';
import { RedisDocument, readEntry, stateOf } from './redis-document';
import { defineScripts, type ScriptedRedis } from './redis-scripts';
import { StreamReader } from './stream-reader';

/** Default lease of a document: a holder that stops renewing (kill -9, a stall) is replaced after this long. */
export const DEFAULT_LEASE_MS = 5000;
/** Default number of entries folded into the files between two trims of the stream. */
export const DEFAULT_TRIM_ENTRIES = 1000;
/** Default heartbeat of an instance: its presence goes away within three of these after it dies. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Default time to wait for Redis at start. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Options of RedisStorage.open. */
export interface RedisStorageOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS). */
  url: string;
  /** The data directory the lease holder folds each document into (lockEach is always on). */
  files: Omit<StoreOptions, 'lockEach'>;
  /** Start even when Redis does not promise durability (the warning says what is not promised). */
  allowUnsafe?: boolean;
  leaseMs?: number;
  trimEntries?: number;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  /** Key prefix (default `collab`). */
  keyPrefix?: string;
  /** This instance's id in Redis (default: random). */
  instanceId?: string;
  warn: (message: string) => void;
  info?: (message: string) => void;
}

/** What a RedisDocument needs of its storage. */
export interface RedisDocumentHost {
  readonly instanceId: string;
  readonly command: ScriptedRedis;
  readonly reader: StreamReader;
  readonly presence: PresenceChannel;
  readonly leaseMs: number;
  readonly trimEntries: number;
  warn(message: string): void;
  info(message: string): void;
  /** The document's files under their per-document lock; null while another live process holds them (said in the log when `sayWhy`). */
  openFiles(name: string, sayWhy?: boolean): Promise<DocumentFiles | null>;
  /** The document closed. */
  forget(document: RedisDocument): void;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new RedisOptionError(`${name} must be a positive number (got ${String(value)})`);
  }
  return value;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Documents in Redis, shared by every instance that uses the same Redis. */
export class RedisStorage implements DocumentStorage, RedisDocumentHost {
  readonly reader: StreamReader;
  readonly presence: PresenceChannel;
  private readonly documents = new Map<string, Promise<RedisDocument>>();
  private readonly leaseTimer: NodeJS.Timeout;
  private closing: Promise<void> | null = null;
  private redisUp = true;

  private constructor(
    private readonly options: RedisStorageOptions,
    readonly instanceId: string,
    readonly command: ScriptedRedis,
    private readonly readerConnection: Redis,
    private readonly subscriber: Redis,
    private readonly files: DocumentStore,
    readonly leaseMs: number,
    readonly trimEntries: number,
    heartbeatMs: number,
    private readonly keyPrefix: string,
  ) {
    this.reader = new StreamReader(readerConnection, command, (m) => this.warn(m));
    this.presence = new PresenceChannel(subscriber, command, instanceId, keyPrefix, heartbeatMs);
    this.leaseTimer = setInterval(() => this.tendLeases(), Math.max(50, Math.floor(leaseMs / 3)));
    this.leaseTimer.unref();
    const url = redactUrl(options.url);
    command.on('error', (error: Error) => {
      if (!this.redisUp || this.closing) return;
      this.redisUp = false;
      this.warn(`Redis at ${url} is unreachable (${error.message}); edits wait for it (no ACK until Redis has them)`);
    });
    command.on('ready', () => {
      if (this.redisUp) return;
      this.redisUp = true;
      this.info(`Redis at ${url} is back`);
    });
  }

  /**
   * Connects to Redis (rejects with RedisUnreachableError when it cannot, RedisNotDurableError
   * when it does not keep acknowledged writes on its disk and allowUnsafe is not set), and opens
   * the data directory a document at a time.
   */
  static async open(options: RedisStorageOptions): Promise<RedisStorage> {
    if (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
      throw new RedisOptionError(`the Redis URL must start with redis:// or rediss:// (got ${JSON.stringify(options.url)})`);
    }
    const leaseMs = positive('leaseMs', options.leaseMs, DEFAULT_LEASE_MS);
    const trimEntries = positive('trimEntries', options.trimEntries, DEFAULT_TRIM_ENTRIES);
    const heartbeatMs = positive('heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS);
    const connectTimeout = positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    const url = redactUrl(options.url);
    const probe = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    let lastError: Error | undefined;
    probe.on('error', (error: Error) => (lastError = error));
    try {
      await probe.connect();
    } catch (error) {
      // Its socket is gone already; ioredis's disconnect() would wait 2 s for it to close (a timer that keeps the process up).
      if (probe.status !== 'end') probe.disconnect();
      // connect() rejects with "Connection is closed."; the reason is the error before it.
      const cause = lastError ?? (error as Error);
      throw new RedisUnreachableError(url, cause.message || (cause as NodeJS.ErrnoException).code || String(cause), { cause });
    }
    let warning: string | null;
    try {
      warning = await requireDurability(probe, url, options.allowUnsafe ?? false);
    } finally {
      probe.disconnect();
    }
    if (warning) options.warn(warning);
    const instanceId = options.instanceId ?? randomBytes(6).toString('hex');
    const files = await DocumentStore.open({ ...options.files, lockEach: true });
    // Commands wait while Redis is away (no ACK until it has them) and are sent again once it is
    // back: an update sent twice is applied once (Yjs).
    const common: RedisOptions = {
      connectTimeout,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    };
    const command = defineScripts(new Redis(options.url, { ...common, connectionName: `collab-${instanceId}` }));
    const reader = new Redis(options.url, { ...common, connectionName: `collab-${instanceId}-reader` });
    const subscriber = new Redis(options.url, { ...common, connectionName: `collab-${instanceId}-presence` });
    for (const connection of [reader, subscriber]) connection.on('error', () => undefined);
    const keyPrefix = options.keyPrefix ?? 'collab';
    const storage = new RedisStorage(options, instanceId, command, reader, subscriber, files, leaseMs, trimEntries, heartbeatMs, keyPrefix);
    storage.info(`Sharing documents through Redis at ${url} as instance ${instanceId}; data directory ${files.dataDir}`);
    return storage;
  }

  warn(message: string): void {
    this.options.warn(message);
  }

  info(message: string): void {
    this.options.info?.(message);
  }

  open(name: string): Promise<RedisDocument> {
    if (this.closing) return Promise.reject(new Error('the Redis storage is closed'));
    try {
      validateDocumentName(name);
    } catch (error) {
      return Promise.reject(error);
    }
    const open = this.documents.get(name);
    // A document being closed is loaded afresh once its close has written everything.
    if (open) return open.then((d) => (d.isClosing ? d.close().then(() => this.open(name)) : d));
    const loading = this.load(name);
    this.documents.set(name, loading);
    loading.catch(() => {
      if (this.documents.get(name) === loading) this.documents.delete(name);
    });
    return loading;
  }

  async openFiles(name: string, sayWhy = true): Promise<DocumentFiles | null> {
    try {
      return await this.files.open(name);
    } catch (error) {
      if (error instanceof LockedError) {
        if (sayWhy) this.info(`Not writing ${name} into the data directory until it is free: ${error.message}`);
        return null;
      }
      throw error;
    }
  }

  forget(document: RedisDocument): void {
    const entry = this.documents.get(document.name);
    void entry?.then((d) => d === document && this.documents.get(document.name) === entry && this.documents.delete(document.name));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.leaseTimer);
      const documents = await Promise.all([...this.documents.values()].map((d) => d.catch(() => null)));
      await Promise.all(documents.map((d) => d?.close().catch((error: Error) => this.warn(`Closing ${d.name} failed: ${error.message}`))));
      await this.presence.stop();
      const stopped = this.reader.stop();
      this.readerConnection.disconnect();
      await stopped;
      this.subscriber.disconnect();
      await this.command.quit().catch(() => this.command.disconnect());
      await this.files.close();
    })();
    return this.closing;
  }

  private tendLeases(): void {
    for (const loading of this.documents.values())
      void loading.then(
        (d) => d.tendLease(),
        () => undefined,
      );
  }

  /**
   * Loads a document: takes its lease if it is free (then its files are loaded into Redis, if
   * Redis never had it: exactly once, under the lease), and reads it from Redis (snapshot and
   * stream, in one transaction so a trim cannot fall between them).
   */
  private async load(name: string): Promise<RedisDocument> {
    const keys = documentKeys(name, this.keyPrefix);
    const { command, instanceId, leaseMs } = this;
    let holding: { token: number; files: DocumentFiles | null; renewedAt: number; waitedForFiles?: boolean } | null = null;
    let alreadySeeded = false;
    // A new document waits until some instance seeded it from its files (bounded: it may be this one).
    for (let attempt = 0; ; attempt++) {
      const token = await command.collabAcquire(keys.lease, keys.fence, instanceId, leaseMs);
      if (token !== null) {
        holding = { token: Number(token), files: await this.openFiles(name), renewedAt: Date.now(), waitedForFiles: true };
        this.info(`Holding the lease of ${name} (token ${token}): folding its updates into the data directory`);
      }
      if ((await command.exists(keys.seeded)) === 1) {
        // Another instance made it (or loaded it from its files) before: it exists for this one too.
        alreadySeeded = true;
        break;
      }
      if (holding?.files) {
        const files = holding.files;
        const state = files.history.length ? stateOf(files.history, (i, cause) => files.historyError(i, cause)) : new Uint8Array();
        const seeded = await command.collabSeed(
          keys.lease,
          keys.fence,
          keys.seeded,
          keys.stream,
          instanceId,
          holding.token,
          Buffer.from(state),
        );
        if (seeded === 1 && state.length) this.info(`Loaded ${name} from the data directory into Redis`);
        if (seeded >= 0) break;
      }
      if (holding) {
        await holding.files?.close().catch(() => undefined);
        await command.collabRelease(keys.lease, keys.fence, instanceId, holding.token).catch(() => undefined);
        holding = null;
      }
      if (attempt >= 100) throw new Error(`document ${name} is not in Redis yet, and no instance could load it from its files`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      const results = await command.multi().hgetallBuffer(keys.snapshot).xrangeBuffer(keys.stream, '-', '+').exec();
      if (!results) throw new Error('the transaction was aborted');
      for (const [error] of results) if (error) throw error;
      const snapshot = results[0]![1] as Record<string, Buffer>;
      const entries = results[1]![1] as Array<[Buffer, Buffer[]]>;
      const history: Uint8Array[] = [];
      const ids: string[] = [];
      let cursor = '0-0';
      if (snapshot.state && snapshot.id) {
        history.push(new Uint8Array(snapshot.state));
        ids.push(`snapshot ${snapshot.id.toString()}`);
        cursor = snapshot.id.toString();
      }
      for (const [rawId, fields] of entries) {
        const id = rawId.toString();
        cursor = id;
        const { update } = readEntry(fields);
        if (!update) continue;
        history.push(update);
        ids.push(id);
      }
      const existed = alreadySeeded || history.length > 0 || (holding?.files?.existed ?? false);
      return new RedisDocument(name, keys, history, ids, existed, cursor, this, holding);
    } catch (error) {
      if (holding) {
        await holding.files?.close().catch(() => undefined);
        await command.collabRelease(keys.lease, keys.fence, instanceId, holding.token).catch(() => undefined);
      }
      throw error;
    }
  }
}
