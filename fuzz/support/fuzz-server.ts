// The collab server of a fuzz run: the real CollabCore (through its public entry points only,
// as apps/collab-server uses it) over a real storage, files in a temporary directory or memory,
// watched by a RecordingStorage, with in-memory transports instead of TCP. Every way an
// exception can get past the core is recorded instead of crashing the run: thrown into a
// transport's handlers, logged by the core as an [ERROR] line, or left to the event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import {
  CollabCore,
  MemoryStorage,
  type Connection,
  type CoreSettings,
  type DocumentStorage,
  type SharedDocument,
} from '@collab/collab-core';
import { CollabSession, MessageType, SyncType, decodeMessage, messageTypeName, type SessionEnd } from '@collab/collab-protocol';
import { FrameDecoder, MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import { DocumentStore, nodeFsOps, type FsOps } from '@collab/persistence';
import { ClientPipe } from './client-pipe';
import { MemoryTransport } from './memory-transport';
import { RecordingLogger } from './recording-logger';
import { RecordingStorage } from './recording-storage';
import { newDoc } from './yjs-samples';

/** How a fuzz server is made. */
export interface FuzzServerOptions {
  settings: Partial<CoreSettings>;
  /** `files`: a DocumentStore in a temporary directory; `memory`: a MemoryStorage. */
  storage: 'files' | 'memory';
  /** Log size past which documents compact (files; small, so compaction runs while fuzzing). */
  compactBytes?: number;
}

/** An exception that got past the core, and where. */
export interface Escape {
  readonly error: unknown;
  readonly where: string;
}

/** A well-behaved client (CollabSession) connected through an in-memory pipe. */
export interface CleanClient {
  readonly doc: Y.Doc;
  /** Its presence; undefined for a client that has none. */
  readonly awareness: Awareness | undefined;
  readonly session: CollabSession;
  /** Why the session ended, once it has. */
  ended: SessionEnd | undefined;
  close(): void;
}

// The store's own file operations, minus the flushes to the device: a fuzz run checks what is
// handed to the store and in which order, not the disk, and an fsync per edit would cost more
// than everything else a run does. Writes, renames and truncations are real.
const noSyncFsOps: FsOps = {
  ...nodeFsOps,
  async open(path, flags, mode) {
    const file = await nodeFsOps.open(path, flags, mode);
    return { ...file, datasync: async () => undefined, sync: async () => undefined };
  },
  syncDir: async () => undefined,
};

/** A directory on tmpfs where there is one (the store writes on every edit). */
function makeDataDir(): string {
  try {
    if (process.platform === 'linux') return mkdtempSync(join('/dev/shm', 'collab-fuzz-'));
  } catch {
    // no /dev/shm: the ordinary temporary directory
  }
  return mkdtempSync(join(tmpdir(), 'collab-fuzz-'));
}

/** Counts everything that moves, so settle() can tell when nothing does. */
interface Pulse {
  count: number;
}

/** The real core with in-memory transports; see the file comment. */
export class FuzzServer {
  /** Exceptions that got past the core's handlers; each would have crashed a real server, or closed a client for a bug. */
  readonly escapes: Escape[] = [];
  /** Exceptions thrown by clean clients' handlers. */
  readonly clientEscapes: unknown[] = [];
  private connections = 0;
  private closed = false;
  /** Messages the server sent (to any client) larger than the maxFrameBytes it announces in WELCOME. */
  readonly oversized: string[] = [];
  private readonly hooks = {
    activity: () => this.pulse.count++,
    escaped: (error: unknown, where: string) => this.escapes.push({ error, where }),
    sent: (payload: Uint8Array) => {
      if (payload.length > this.core.settings.maxFrameBytes)
        this.oversized.push(`${messageTypeName(payload[0])} of ${payload.length} bytes`);
    },
  };
  // A backstop for what the transports do not see: a throw in a promise callback or a timer.
  // Jest handles these itself and fails the test instead.
  private readonly onUncaught = (error: unknown) => this.escapes.push({ error, where: 'the event loop (uncaught)' });

  private constructor(
    readonly core: CollabCore,
    readonly storage: RecordingStorage,
    /** [ERROR] lines are findings (the core logs a bug it caught while handling a message as one). */
    readonly logger: RecordingLogger,
    private readonly inner: DocumentStorage,
    private readonly pulse: Pulse,
    readonly dataDir: string | undefined,
  ) {
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
  }

  /** Opens the storage and starts the core (which loads and releases the default document, as the app's does). */
  static async start(options: FuzzServerOptions): Promise<FuzzServer> {
    let inner: DocumentStorage;
    let dataDir: string | undefined;
    if (options.storage === 'files') {
      dataDir = makeDataDir();
      inner = await DocumentStore.open({ dataDir, compactBytes: options.compactBytes, fs: noSyncFsOps, onWarning: () => undefined });
    } else {
      inner = new MemoryStorage();
    }
    const pulse: Pulse = { count: 0 };
    const storage = new RecordingStorage(inner, () => pulse.count++);
    const logger = new RecordingLogger();
    const core = new CollabCore({ settings: options.settings, storage, logger });
    const server = new FuzzServer(core, storage, logger, inner, pulse, dataDir);
    await core.start();
    // With unloadAfterMs 0 the default document is unloaded at once: its slot is free again.
    await server.settle({ timers: true });
    return server;
  }

  /** The settings in force (defaults filled in). */
  get settings(): CoreSettings {
    return this.core.settings;
  }

  /** A document the core holds (once it has loaded, if it is loading now), or undefined. */
  document(name: string): Promise<SharedDocument | undefined> {
    return this.core.documents.names.includes(name) ? this.core.documents.loaded(name) : Promise.resolve(undefined);
  }

  /** Every document loaded now, by name. */
  async documents(): Promise<Map<string, SharedDocument>> {
    const loaded = new Map<string, SharedDocument>();
    for (const name of this.core.documents.names) {
      const document = await this.core.documents.loaded(name);
      if (document) loaded.set(name, document);
    }
    return loaded;
  }

  /** A new connection from its own address; the caller plays the client through the transport. */
  connect(): { transport: MemoryTransport; connection: Connection | undefined } {
    const n = ++this.connections;
    const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const transport = new MemoryTransport(address, `${address}:${40_000 + (n % 20_000)}`, this.hooks);
    let connection: Connection | undefined;
    try {
      connection = this.core.connect(transport);
    } catch (error) {
      this.escapes.push({ error, where: 'CollabCore.connect' });
      connection = undefined;
    }
    transport.attach(connection);
    return { transport, connection };
  }

  /** Connects a CollabSession (a fresh Y.Doc) to `document` and waits until it is synced. */
  async connectClean(document: string, name: string, options: { presence?: boolean } = {}): Promise<CleanClient> {
    const { transport } = this.connect();
    const frames = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
    const pipe = new ClientPipe(transport, {
      activity: () => this.pulse.count++,
      clientEscaped: (error) => this.clientEscapes.push(error),
      // What a well-behaved client sends is genuine: an append of it is no junk.
      clientWrote: (chunk) => {
        for (const payload of frames.write(chunk)) {
          const message = decodeMessage(payload);
          if (message.type === MessageType.Sync && message.syncType !== SyncType.Step1)
            this.storage.genuine.add(Buffer.from(message.data).toString('hex'));
        }
      },
    });
    const doc = newDoc();
    const awareness = options.presence === false ? undefined : new Awareness(doc);
    awareness?.setLocalState({ user: { name } });
    const token = this.settings.token;
    const session = new CollabSession(pipe, { document, clientName: name, token, doc, awareness, pingAfterMs: 3_600_000 });
    const client: CleanClient = {
      doc,
      awareness,
      session,
      ended: undefined,
      close: () => {
        session.close();
        awareness?.destroy();
      },
    };
    session.on('end', (end: SessionEnd) => (client.ended = end));
    try {
      await this.settle();
      if (!session.isSynced) {
        const why = client.ended ? `: ${client.ended.refusal?.message ?? client.ended.error?.message ?? 'the connection closed'}` : '';
        throw new Error(`the clean client ${name} did not get in sync with ${document}${why}`);
      }
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /**
   * Waits until nothing moves: documents loaded, appends stored, answers written and delivered.
   * With `timers`, each round also lets timers due by then run (documents unloaded after their
   * last client left, with unloadAfterMs 0). Throws after `rounds` rounds that all moved.
   */
  async settle(options: { timers?: boolean; rounds?: number } = {}): Promise<void> {
    const rounds = options.rounds ?? 100;
    for (let round = 0; round < rounds; round++) {
      const before = this.pulse.count;
      await this.storage.settled();
      // Deliveries between the ends of a pipe are setImmediate callbacks queued before this one.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.timers) await new Promise((resolve) => setTimeout(resolve, 1));
      if (this.pulse.count === before) return;
    }
    throw new Error(`the server was still busy after ${rounds} rounds of the event loop`);
  }

  /** Closes the core (ERROR 9 to everyone, every document stored) and the storage; the data is kept for reload(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.core.close();
      await this.settle().catch(() => undefined);
    } finally {
      process.off('uncaughtException', this.onUncaught);
      process.off('unhandledRejection', this.onUncaught);
    }
  }

  /** Opens every document the core used afresh from the closed storage, as a restarted server would load it. */
  async reload(): Promise<Map<string, Y.Doc>> {
    const storage = this.dataDir ? await DocumentStore.open({ dataDir: this.dataDir, onWarning: () => undefined }) : this.inner; // a MemoryStorage keeps its records after close()
    const docs = new Map<string, Y.Doc>();
    try {
      for (const name of this.storage.records.keys()) {
        const stored = await storage.open(name);
        const doc = newDoc();
        for (const update of stored.history) Y.applyUpdate(doc, update);
        docs.set(name, doc);
        await stored.close();
      }
    } finally {
      await storage.close();
    }
    return docs;
  }

  /** Deletes the data directory (files); call after close(). */
  remove(): void {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
