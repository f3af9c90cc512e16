// The collab server's message handling, in this process and without TCP: real ClientConnections
// and SharedDocuments over a real DocumentStore in a temporary directory, wired the way
// CollabServer wires them, with FakeSockets instead of net.Sockets. Only what a fuzz run needs:
// connections are fed bytes directly, and every exception that would have escaped to the
// event loop (and crashed a real server) is recorded instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { CollabSession, ErrorCode, type SessionEnd } from '@collab/collab-protocol';
import type { Logger } from '@collab/logging';
import { DocumentStore, TEXT_NAME, nodeFsOps, type DocumentFiles, type FsOps } from '@collab/persistence';
import { ClientConnection, type ConnectionHost, type ConnectionSettings } from '../../apps/collab-server/src/client-connection';
import { SharedDocument } from '../../apps/collab-server/src/shared-document';
import { FakeSocket, fakeSocketPair } from './fake-socket';
import { newDoc } from './yjs-samples';

/** Limits of the in-process server; CollabServer's defaults except where a fuzz run needs smaller ones. */
export interface InProcessServerOptions {
  settings: ConnectionSettings;
  /** Documents loaded at once; a HELLO for one more gets ERROR 1, as with CollabServer's maxDocuments. */
  maxDocuments: number;
  /** Log size past which documents compact (small, so compaction runs during fuzzing). */
  compactBytes: number;
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

/** A loaded document with the record of what was handed to its store. */
export interface LoadedDocument {
  readonly shared: SharedDocument;
  /** Every update appended to the store, applied in order: what a restart would load. */
  readonly stored: Y.Doc;
  /** Appended updates that could not even be applied to `stored`. */
  readonly badAppends: string[];
  /** Every applyChange call since the caller last emptied this list. */
  readonly changes: ChangeRecord[];
}

/** What one SharedDocument.applyChange call did. */
export interface ChangeRecord {
  readonly peer: unknown;
  /** The update, in hex. */
  readonly update: string;
  /** Whether applyChange threw (the client then gets ERROR 3, "the document is unchanged"). */
  refused: boolean;
  /** Whether the document changed anyway: an 'update' event, or different pending structs or deletions. */
  touched: boolean;
  /** Whether the call handed anything to the store. */
  appended: boolean;
  /** Whether pending structs grew inside the same object (Yjs merges into it), which an identity check misses. */
  pendingGrewInPlace: boolean;
}

/** An exception that escaped the server's handlers, and where it came from. */
export interface Escape {
  readonly error: unknown;
  /** The handler it escaped from, and the SharedDocument method that threw it when known. */
  readonly where: string;
}

// Methods a ClientConnection calls on its document; wrapped to tell which one threw (lib0's
// errors are shared singletons whose stacks point at module load, so stacks cannot say).
const DOCUMENT_METHODS = ['join', 'leave', 'stepTwoFor', 'applyChange', 'wouldExceed', 'applyAwareness', 'awarenessMessage'] as const;

/** A well-behaved client (CollabSession) connected through a fake socket pair. */
export interface CleanClient {
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  readonly session: CollabSession;
  /** Why the session ended, once it has. */
  ended: SessionEnd | undefined;
  close(): void;
}

// Logs are not written, but every message is built, as a server logging at 'update' level
// would: building the [UPDATE] line runs summariseUpdate on client input.
const discardingLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  update: () => undefined,
  debug: () => undefined,
  isEnabled: () => true,
  close: async () => undefined,
};

/** A promise that records an exception thrown by a callback chained on it, which would otherwise be an unhandled rejection. */
class WatchedPromise<T> extends Promise<T> {
  static watch<T>(promise: Promise<T>, onEscape: (error: unknown) => void): Promise<T> {
    const watched = new WatchedPromise<T>((resolve, reject) => promise.then(resolve, reject));
    watched.onEscape = onEscape;
    return watched;
  }

  private onEscape: (error: unknown) => void = () => undefined;

  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    const guard =
      <V, R>(callback: (value: V) => R) =>
      (value: V): R => {
        try {
          return callback(value);
        } catch (error) {
          // Recorded here; thrown on, it would be an unhandled rejection (a crash in Node 15+).
          this.onEscape(error);
          return undefined as R;
        }
      };
    return super.then(onFulfilled ? guard(onFulfilled) : onFulfilled, onRejected ? guard(onRejected) : onRejected) as Promise<A | B>;
  }
}

/** Real connections and documents of a collab server, minus the TCP listener. */
export class InProcessServer implements ConnectionHost {
  readonly logger = discardingLogger;
  /** Exceptions that escaped the server's handlers; each would have crashed a real server. */
  readonly escapes: Escape[] = [];
  /** Exceptions thrown by clean clients' handlers. */
  readonly clientEscapes: unknown[] = [];
  /** Connections open now, the clean clients' included. */
  readonly connections = new Set<ClientConnection>();
  private readonly admitted = new Set<ClientConnection>();
  private readonly documents = new Map<string, Promise<LoadedDocument>>();
  private readonly loaded = new Map<string, LoadedDocument>();
  /** Bumped by every byte written anywhere; settle() waits until it stops moving. */
  private activity = 0;
  private lastThrow: { error: unknown; method: string } | undefined;
  private nextLabel = 1;
  private closed = false;

  // A backstop for escapes the wrappers above do not see (a throw in a timer callback, an
  // async function's rejection). Jest handles these itself and fails the test instead.
  private readonly onUncaught = (error: unknown) => this.escaped(error, 'the event loop (uncaught)');

  private constructor(
    readonly options: InProcessServerOptions,
    readonly dataDir: string,
    private readonly store: DocumentStore,
  ) {
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
  }

  /** Opens a store in a fresh directory (on tmpfs when there is one: fsync is the cost of every edit). */
  static async start(options: InProcessServerOptions): Promise<InProcessServer> {
    const base = process.platform === 'linux' ? '/dev/shm' : tmpdir();
    let dataDir: string;
    try {
      dataDir = mkdtempSync(join(base, 'collab-fuzz-'));
    } catch {
      dataDir = mkdtempSync(join(tmpdir(), 'collab-fuzz-'));
    }
    const store = await DocumentStore.open({ dataDir, compactBytes: options.compactBytes, fs: noSyncFsOps, onWarning: () => undefined });
    return new InProcessServer(options, dataDir, store);
  }

  /** Documents loaded now, by name. */
  get loadedDocuments(): ReadonlyMap<string, LoadedDocument> {
    return this.loaded;
  }

  /** Whether a HELLO for `name` would be refused with ERROR 1 for too many open documents. */
  refusesDocument(name: string): boolean {
    return !this.documents.has(name) && this.documents.size >= this.options.maxDocuments;
  }

  admit(connection: ClientConnection): boolean {
    this.admitted.add(connection);
    return true;
  }

  openDocument(name: string): Promise<SharedDocument> {
    let loading = this.documents.get(name);
    if (!loading) {
      if (this.documents.size >= this.options.maxDocuments) {
        const error = Object.assign(new Error(`${this.options.maxDocuments} documents are open.`), { code: 'COLLAB_ERR_TOO_MANY_DOCUMENTS' });
        return WatchedPromise.watch(Promise.reject(error), (e) => this.escaped(e, 'the document-open callback'));
      }
      this.activity++;
      loading = this.store.openFiles(name).then((files) => this.wrap(name, files));
      this.documents.set(name, loading);
      loading.catch(() => this.documents.delete(name)).finally(() => this.activity++);
    }
    return WatchedPromise.watch(
      loading.then((d) => d.shared),
      (error) => this.escaped(error, 'the document-open callback'),
    );
  }

  connectionClosed(connection: ClientConnection): void {
    this.connections.delete(connection);
    this.admitted.delete(connection);
  }

  /** A new connection whose peer the caller plays through socket.receive() / peerEnd(). */
  connect(): { socket: FakeSocket; connection: ClientConnection } {
    const socket = new FakeSocket();
    socket.pipeTo(() => this.activity++);
    const connection = this.accept(socket);
    return { socket, connection };
  }

  /** Delivers bytes to a connection, recording what its handlers let escape instead of throwing it. */
  feed(socket: FakeSocket, chunk: Buffer): void {
    try {
      socket.receive(chunk);
    } catch (error) {
      this.escaped(error, "the socket's 'data' handler");
    }
  }

  /** Connects a CollabSession (fresh Y.Doc unless given) to `document` and waits until it is synced. */
  async connectClean(document: string, name = 'clean'): Promise<CleanClient> {
    const [serverEnd, clientEnd] = fakeSocketPair({
      onEscape: (error, side) => (side === 'a' ? this.escaped(error, "the socket's 'data' handler") : this.clientEscapes.push(error)),
      onWrite: () => this.activity++,
    });
    this.accept(serverEnd);
    const doc = newDoc();
    const awareness = new Awareness(doc);
    awareness.setLocalState({ user: { name } });
    const token = this.options.settings.token;
    const session = new CollabSession(clientEnd as never, { document, clientName: name, token, doc, awareness, pingAfterMs: 3_600_000 });
    const client: CleanClient = {
      doc,
      awareness,
      session,
      ended: undefined,
      close: () => {
        session.close();
        awareness.destroy();
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
   * Waits until nothing moves: documents loaded, appends stored, ACKs and relays written and
   * delivered. Throws if that takes more than `rounds` turns of the event loop with writes in each.
   */
  async settle(rounds = 100): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const before = this.activity;
      await Promise.all([...this.documents.values()].map((d) => d.then((l) => l.shared.settled(), () => undefined)));
      // Deliveries between fake sockets are setImmediate callbacks queued before this one.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.activity === before) return;
    }
    throw new Error(`the server was still writing after ${rounds} rounds of the event loop`);
  }

  /** Closes every connection and document and the store; the directory is kept for reload(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUncaught);
    for (const connection of this.connections) connection.fail(ErrorCode.ShuttingDown, 'The server is shutting down.');
    const documents = await Promise.all([...this.documents.values()].map((d) => d.catch(() => undefined)));
    for (const d of documents) {
      await d?.shared.settled();
      await d?.shared.close().catch(() => undefined);
    }
    await this.store.close().catch(() => undefined);
  }

  /** Loads every document of the closed store afresh, as a restarted server would, to compare with what was appended. */
  async reload(): Promise<Map<string, Y.Doc>> {
    const store = await DocumentStore.open({ dataDir: this.dataDir, onWarning: () => undefined });
    const docs = new Map<string, Y.Doc>();
    try {
      for (const name of this.loaded.keys()) docs.set(name, (await store.openFiles(name)).doc);
    } finally {
      await store.close();
    }
    return docs;
  }

  /** Deletes the data directory; call after close(). */
  remove(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private escaped(error: unknown, handler: string): void {
    const last = this.lastThrow;
    const method = last && last.error === error ? ` (thrown by SharedDocument.${last.method})` : '';
    this.escapes.push({ error, where: `${handler}${method}` });
  }

  private accept(socket: FakeSocket): ClientConnection {
    const connection = new ClientConnection(socket as unknown as Socket, `fuzz-${this.nextLabel++}`, this.options.settings, this);
    this.connections.add(connection);
    return connection;
  }

  private wrap(name: string, files: DocumentFiles): LoadedDocument {
    const stored = newDoc();
    Y.applyUpdate(stored, Y.encodeStateAsUpdate(files.doc));
    const badAppends: string[] = [];
    const append = files.append.bind(files);
    files.append = (update: Uint8Array) => {
      try {
        Y.applyUpdate(stored, update);
      } catch (error) {
        badAppends.push((error as Error).message);
      }
      return append(update);
    };
    const shared = new SharedDocument(name, files, {
      // As CollabServer wires it: the [UPDATE] line is built whenever the level is on.
      onTextChanged: (peer, summary) => {
        if (this.logger.isEnabled('update')) this.logger.update(`Document updated by ${peer.label}: ${summary()}`);
      },
      onRelayed: (recipients) => {
        for (const peer of recipients) this.logger.info(`Broadcasted update to client ${peer.label}`);
      },
    });
    const loaded: LoadedDocument = { shared, stored, badAppends, changes: [] };
    const { store } = files.doc;
    let updates = 0;
    let appends = 0;
    files.doc.on('update', () => updates++);
    const appendAndRecord = files.append.bind(files);
    files.append = (update: Uint8Array) => {
      appends++;
      return appendAndRecord(update);
    };
    const applyChange = shared.applyChange.bind(shared);
    shared.applyChange = (peer, update) => {
      const change: ChangeRecord = {
        peer,
        update: Buffer.from(update).toString('hex'),
        refused: true,
        touched: false,
        appended: false,
        pendingGrewInPlace: false,
      };
      loaded.changes.push(change);
      const [updatesBefore, appendsBefore] = [updates, appends];
      const { pendingStructs, pendingDs } = store;
      const pendingUpdate = pendingStructs?.update;
      try {
        const result = applyChange(peer, update);
        change.refused = false;
        return result;
      } finally {
        change.pendingGrewInPlace = pendingStructs !== null && store.pendingStructs === pendingStructs && pendingStructs.update !== pendingUpdate;
        change.touched =
          updates !== updatesBefore || store.pendingStructs !== pendingStructs || store.pendingDs !== pendingDs || change.pendingGrewInPlace;
        change.appended = appends !== appendsBefore;
      }
    };
    const methods = shared as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of DOCUMENT_METHODS) {
      const original = methods[method].bind(shared);
      methods[method] = (...args: unknown[]) => {
        try {
          return original(...args);
        } catch (error) {
          this.lastThrow = { error, method };
          throw error;
        }
      };
    }
    this.loaded.set(name, loaded);
    return loaded;
  }
}

/** The text of a document's Y.Text, as the server stores it. */
export function documentText(doc: Y.Doc): string {
  return doc.getText(TEXT_NAME).toString();
}

/** Whether two docs hold the same items and deletions (state vector and delete set). */
export function sameContent(a: Y.Doc, b: Y.Doc): boolean {
  return Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b));
}
