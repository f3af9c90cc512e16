// One document kept in Redis. Every update is an entry of the document's stream; the append
// resolves (and the client gets its ACK) once Redis replied to the XADD, which with appendonly
// yes and appendfsync always means it is on Redis's disk. The instance's StreamReader hands it
// what every instance added, in stream order: it applies the others' updates (relayed to its
// clients, not stored again) and, when it holds the document's lease, folds every entry into the
// document's files (update log, snapshot, NAME.txt: @collab/persistence). The lease holder also
// trims the stream, only up to what its files hold (fsynced), after writing a snapshot of the
// document that covers what it trims, so an instance that opens the document later finds it
// whole in Redis: the snapshot, then the stream.

import * as Y from 'yjs';
import type { LiveDocumentView, StoredDocument } from '@collab/collab-core';
import type { DocumentFiles } from '@collab/persistence';
import { RedisDataError } from './errors';
import { compareStreamIds, nextStreamId, type DocumentKeys } from './redis-keys';
import type { StreamSubscriber } from './stream-reader';
import type { PresenceSubscriber } from './presence-channel';
import type { RedisDocumentHost } from './redis-storage';

/** The lease this instance holds on a document, and its files (null while another process still writes them). */
interface Holding {
  token: number;
  files: DocumentFiles | null;
  /** When Redis last confirmed the lease (Date.now()). */
  renewedAt: number;
  /** The files were locked by another process once already (said once in the log). */
  waitedForFiles?: boolean;
}

/** A document whose history is in Redis. */
export class RedisDocument implements StoredDocument, StreamSubscriber, PresenceSubscriber {
  readonly outsideEdit = null;
  /** The last stream id applied (and, holding the lease, handed to the files). */
  cursor: string;
  readonly remoteSources = new Set<string>();
  private view: LiveDocumentView | undefined;
  private holding: Holding | null = null;
  private lastAppend: Promise<unknown> = Promise.resolve();
  /** Settles once every entry handed to the files so far is durable there. */
  private folding: Promise<void> = Promise.resolve();
  /** The last entry the files hold durably. */
  private foldedId: string | null = null;
  private foldedSinceTrim = 0;
  private trimming = false;
  private closing: Promise<void> | null = null;
  /** The last entry this instance added. */
  private lastAppendedId = '0-0';
  /** The highest entry the lease holder said NAME.txt holds (FLUSHED). */
  private flushedUpTo = '0-0';
  /** Lease work (renewing, taking over) runs one at a time. */
  private leaseWork: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly keys: DocumentKeys,
    readonly history: readonly Uint8Array[],
    /** Stream id of each history entry (the snapshot's is its `id`), for historyError. */
    private readonly historyIds: readonly string[],
    readonly existed: boolean,
    cursor: string,
    private readonly host: RedisDocumentHost,
    holding: Holding | null,
  ) {
    this.cursor = cursor;
    this.holding = holding;
  }

  get streamKey(): string {
    return this.keys.stream;
  }

  get presenceKey(): string {
    return this.keys.presence;
  }

  /** True once close() has been called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** How many fdatasync calls the log of the files this lease holder writes has made (0 when it holds none); for tests. */
  get foldSyncCount(): number {
    return this.holding?.files?.logSyncCount ?? 0;
  }

  /** Whether this instance holds the document's lease now (and writes its files). */
  get holdsLease(): boolean {
    return this.holding !== null;
  }

  historyError(index: number, cause: unknown): Error {
    return new RedisDataError(
      `${this.keys.stream} entry ${this.historyIds[index] ?? index} is not a Yjs update: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }

  async attach(view: LiveDocumentView): Promise<void> {
    this.view = view;
    if (this.holding?.files) await this.startFolding(this.holding.files);
    this.host.reader.add(this);
    await this.host.presence.join(this);
  }

  append(update: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`document ${this.name} is closed`));
    const added = this.host.command.xaddBuffer(this.keys.stream, '*', 'o', this.host.instanceId, 'u', Buffer.from(update));
    this.lastAppend = added.catch(() => undefined);
    return added.then((id) => {
      if (id && compareStreamIds(id.toString(), this.lastAppendedId) > 0) this.lastAppendedId = id.toString();
    });
  }

  changed(): void {
    this.holding?.files?.changed();
  }

  /**
   * NAME.txt with every change this instance has applied: written here by the lease holder; asked
   * of the lease holder otherwise (FLUSH on the document's channel, again every second in case the
   * lease moves), waiting for its FLUSHED. Rejects when no instance wrote it within FLUSH_TIMEOUT_MS.
   */
  async flushText(): Promise<void> {
    if (this.holding?.files) return this.flushHere(this.holding.files);
    await this.lastAppend;
    const id = compareStreamIds(this.cursor, this.lastAppendedId) > 0 ? this.cursor : this.lastAppendedId;
    if (id === '0-0') return;
    const until = Date.now() + FLUSH_TIMEOUT_MS;
    let askedAt = 0;
    while (compareStreamIds(this.flushedUpTo, id) < 0) {
      if (this.holding?.files) return this.flushHere(this.holding.files);
      if (Date.now() > until)
        throw new Error(`no instance holding the lease of ${this.name} wrote ${this.name}.txt within ${FLUSH_TIMEOUT_MS / 1000} s`);
      if (Date.now() - askedAt >= 1000) {
        this.host.presence.requestFlush(this, id);
        askedAt = Date.now();
      }
      await sleep(10);
    }
  }

  flushRequested(id: string): void {
    const files = this.holding?.files;
    if (!files) return;
    void (async () => {
      // Once the reader has brought that entry here and the files hold it.
      const until = Date.now() + FLUSH_TIMEOUT_MS;
      while ((!this.foldedId || compareStreamIds(this.foldedId, id) < 0) && Date.now() < until && this.holding?.files === files)
        await sleep(5);
      if (!this.foldedId || compareStreamIds(this.foldedId, id) < 0) return;
      const upTo = this.foldedId;
      await this.flushHere(files);
      this.host.presence.announceFlushed(this, upTo);
    })().catch((error: Error) => this.host.warn(`Writing ${this.name}.txt for another instance failed: ${error.message}`));
  }

  flushed(id: string): void {
    if (compareStreamIds(id, this.flushedUpTo) > 0) this.flushedUpTo = id;
  }

  private async flushHere(files: DocumentFiles): Promise<void> {
    await this.folding.catch(() => undefined);
    await files.flushText();
  }

  async compact(): Promise<void> {
    await this.folding;
    await this.holding?.files?.compact();
    await this.trim();
  }

  presenceChanged(update: Uint8Array): void {
    this.host.presence.publish(this, update);
  }

  remotePresence(source: string, update: Uint8Array): void {
    if (!this.view) return;
    this.remoteSources.add(source);
    this.view.applyRemotePresence(source, update);
  }

  presenceQuery(): void {
    const mine = this.view?.localPresence();
    if (mine) this.host.presence.publish(this, mine);
  }

  dropSource(source: string): void {
    this.remoteSources.delete(source);
    this.view?.dropRemotePresence(source);
  }

  /** Entries the reader found after the cursor: the others' are applied; all are folded by the lease holder. */
  receive(entries: Array<[Buffer, Buffer[]]>): void {
    for (const [rawId, fields] of entries) {
      const id = rawId.toString();
      if (compareStreamIds(id, this.cursor) <= 0) continue;
      this.cursor = id;
      const { origin, update } = readEntry(fields);
      if (!update) continue;
      if (origin !== this.host.instanceId && this.view) {
        try {
          this.view.applyStoredUpdate(update, `server ${origin ?? 'unknown'}`);
        } catch (error) {
          this.host.warn(`${this.keys.stream} entry ${id} could not be applied: ${(error as Error).message}`);
        }
      }
      this.fold(id, update);
    }
  }

  /** Renews the lease, or takes it when it is free; run by the storage every third of a lease. */
  tendLease(): Promise<void> {
    this.leaseWork = this.leaseWork
      .then(() => this.tendLeaseNow())
      .catch((error: Error) => this.host.warn(`Lease work on ${this.name} failed (tried again shortly): ${error.message}`));
    return this.leaseWork;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.host.reader.remove(this);
      this.host.presence.leave(this);
      await this.lastAppend;
      await this.leaseWork;
      // A holder still waiting for the files (their last writer only just let go) tries once more:
      // whoever holds the lease at the end writes the last of the document into them.
      if (this.holding && !this.holding.files) await this.openFiles(this.holding, true).catch(() => undefined);
      if (this.holding) {
        // What the others added since the last read, so the files (and NAME.txt) end complete.
        try {
          const entries = await this.host.command.xrangeBuffer(this.keys.stream, `(${this.cursor}`, '+');
          this.receive(entries as Array<[Buffer, Buffer[]]>);
        } catch (error) {
          this.host.warn(`Could not read the last updates of ${this.name} from Redis before closing it: ${(error as Error).message}`);
        }
        await this.trim().catch(() => undefined);
        await this.letGo();
      }
      this.host.forget(this);
    })();
    return this.closing;
  }

  /** Makes the files hold everything the live document holds, then folds each new entry into them. */
  private async startFolding(files: DocumentFiles): Promise<void> {
    const view = this.view!;
    await files.attach(view);
    // The files may be behind the stream (another instance held the lease, or they are this
    // instance's own directory): the whole state, once, brings them level.
    const upTo = this.cursor;
    this.folding = this.folding.then(() => files.append(view.encodeState())).then(() => this.folded(upTo));
    files.changed();
    await this.folding.catch((error: Error) => this.foldFailed(error));
  }

  private fold(id: string, update: Uint8Array): void {
    const files = this.holding?.files;
    if (!files) return;
    // Appended at once, so that entries read together share a commit (the log keeps their order);
    // only the bookkeeping waits its turn. Appending each after the last one's commit made one
    // fdatasync per entry: a holder that had fallen behind (stalled, or typing faster than one
    // commit interval per edit) caught up at ~100 entries a second, and letting go waited for that.
    const appended = files.append(update);
    appended.catch(() => undefined); // its failure is handled in turn, below
    this.folding = this.folding
      .then(() => appended)
      .then(
        () => this.folded(id),
        (error: Error) => this.foldFailed(error),
      );
  }

  private folded(id: string): void {
    if (!this.foldedId || compareStreamIds(id, this.foldedId) > 0) this.foldedId = id;
    if (++this.foldedSinceTrim >= this.host.trimEntries && !this.trimming) void this.trim();
  }

  private foldFailed(error: Error): void {
    if (!this.holding?.files) return;
    // The files cannot take more (disk full, I/O error): the stream keeps everything, untrimmed,
    // and the lease goes to whoever can write (this instance again, later, if its disk recovers).
    this.host.warn(`Writing ${this.name}'s files failed (${error.message}); giving its lease up, Redis keeps every update`);
    void this.letGo();
  }

  /** Writes a snapshot covering what the files hold, and trims the stream up to there (fenced by the lease). */
  private async trim(): Promise<void> {
    const holding = this.holding;
    const upTo = this.foldedId;
    if (!holding?.files || !upTo || !this.view || this.trimming) return;
    this.trimming = true;
    try {
      await this.folding;
      // The live document holds every entry up to the cursor, which is at or past upTo.
      const state = Buffer.from(this.view.encodeState());
      const { instanceId, command } = this.host;
      const k = this.keys;
      const done = await command.collabTrim(
        k.lease,
        k.fence,
        k.snapshot,
        k.stream,
        instanceId,
        holding.token,
        state,
        upTo,
        nextStreamId(upTo),
      );
      this.foldedSinceTrim = 0;
      if (done !== 1 && this.holding === holding) {
        this.host.warn(`Lost the lease of ${this.name} (another instance took it); no longer writing its files`);
        await this.letGo();
      }
    } catch (error) {
      this.host.warn(`Trimming ${this.name}'s stream failed (it is kept whole): ${(error as Error).message}`);
    } finally {
      this.trimming = false;
    }
  }

  private async tendLeaseNow(): Promise<void> {
    if (this.closing || !this.view) return;
    const { command, instanceId, leaseMs } = this.host;
    const k = this.keys;
    const holding = this.holding;
    if (holding) {
      let renewed: number;
      try {
        renewed = await command.collabRenew(k.lease, k.fence, instanceId, holding.token, leaseMs);
      } catch {
        // Redis is away: past the lease, another instance may hold it by now.
        if (Date.now() - holding.renewedAt > leaseMs) {
          this.host.warn(`Could not renew the lease of ${this.name} for longer than it lasts; no longer writing its files`);
          await this.letGo();
        }
        return;
      }
      if (renewed !== 1) {
        this.host.warn(`Lost the lease of ${this.name} (another instance took it); no longer writing its files`);
        await this.letGo();
        return;
      }
      holding.renewedAt = Date.now();
      if (!holding.files) await this.openFiles(holding);
      return;
    }
    const token = await command.collabAcquire(k.lease, k.fence, instanceId, leaseMs).catch(() => null);
    if (token === null) return;
    const taken: Holding = { token: Number(token), files: null, renewedAt: Date.now() };
    this.holding = taken;
    this.host.info(`Holding the lease of ${this.name} (token ${token}): folding its updates into the data directory`);
    await this.openFiles(taken);
  }

  private async openFiles(holding: Holding, closing = false): Promise<void> {
    const files = await this.host.openFiles(this.name, !holding.waitedForFiles);
    holding.waitedForFiles = true;
    if (!files) return;
    if (this.holding !== holding || (this.closing && !closing)) {
      await files.close().catch(() => undefined);
      return;
    }
    holding.files = files;
    this.host.info(`Writing ${this.name} into the data directory from now on`);
    await this.startFolding(files);
  }

  /** Stops writing the files (closing them writes NAME.txt and a snapshot) and releases the lease if it is still ours. */
  private async letGo(): Promise<void> {
    const holding = this.holding;
    if (!holding) return;
    this.holding = null;
    await this.folding.catch(() => undefined);
    this.foldedId = null;
    await holding.files?.close().catch((error: Error) => this.host.warn(`Closing ${this.name}'s files failed: ${error.message}`));
    const k = this.keys;
    await this.host.command.collabRelease(k.lease, k.fence, this.host.instanceId, holding.token).catch(() => undefined);
  }
}

/** Longest an instance waits for the lease holder to write NAME.txt on its behalf (FLUSH). */
const FLUSH_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The origin and update of a stream entry (fields o and u); update undefined when it has none. */
export function readEntry(fields: Buffer[]): { origin?: string; update?: Uint8Array } {
  const entry: { origin?: string; update?: Uint8Array } = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === 'o') entry.origin = fields[i + 1]!.toString();
    else if (name === 'u') entry.update = new Uint8Array(fields[i + 1]!);
  }
  return entry;
}

/** A document's state as one update, from the updates that make it (the seed of a new Redis). */
export function stateOf(updates: readonly Uint8Array[], historyError: (index: number, cause: unknown) => Error): Uint8Array {
  const doc = new Y.Doc();
  let index = 0;
  try {
    doc.transact(() => {
      for (; index < updates.length; index++) Y.applyUpdate(doc, updates[index]!);
    });
    return Y.encodeStateAsUpdate(doc);
  } catch (error) {
    throw historyError(index, error);
  } finally {
    doc.destroy();
  }
}
