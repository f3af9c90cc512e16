// One open document: its Y.Doc (owned here), its storage, the presence of the people in it, and
// the peers to relay to. Changes are applied and relayed at once; only the acknowledgement waits
// for the storage. Appends are issued in the order changes are applied, and storages commit them
// in that order, so "everything up to here is stored" is one promise chain.

import * as Y from 'yjs';
import { MessageType, SyncType, TEXT_NAME, encodeMessage } from '@collab/collab-protocol';
import { HistoryError, UpdateRefusedError } from './errors';
import { PresenceTable, type PresenceLimits, type PresenceOutcome } from './presence';
import type { LiveDocumentView, OutsideMergeResult, OutsideTextEdit, StoredDocument } from './storage';
import { diffText } from './text-diff';
import { applyChangesToYText, mergeFileText, snapshotOfDoc, type ThreeWayMerge } from './text-merge';
import { encodeDeletions, splitUpdate } from './update-split';
import { appliesCleanly } from './update-dependencies';
import { checkTextUpdate, type TextUpdate, type UpdateShape } from './update-shape';

export { TEXT_NAME };

/** Bytes a SYNC or AWARENESS message adds around its data: type, sync type, length. */
const MESSAGE_OVERHEAD_BYTES = 16;
/** Bytes an awareness update adds around one state's JSON: entry count, client id, clock, length. */
const PRESENCE_ENTRY_OVERHEAD_BYTES = 32;

/** Who made a change, as logs and clients show it: a client, or the server itself (`file`). */
export interface ChangeOrigin {
  readonly label: string;
}

/** What a document needs of each client connected to it. */
export interface DocumentPeer extends ChangeOrigin {
  /** Queues one encoded message for this client. */
  send(payload: Uint8Array): void;
}

/** Limits and hooks of a SharedDocument. */
export interface SharedDocumentOptions {
  /** Largest message sent to a client: larger states and updates go out in parts. */
  maxMessageBytes: number;
  /** Longest text a client's change may make. */
  maxDocumentChars: number;
  /** Most items (structs) a client's change may bring the document to. */
  maxDocumentItems: number;
  /** Under load, relays go out together at most this often (default 0: at the end of each turn of the event loop). */
  relayIntervalMs?: number;
  presence: PresenceLimits;
  /** A change was applied and handed to the storage; `recipients` are the peers it was relayed to. */
  onChange?(document: string, origin: ChangeOrigin, shape: UpdateShape, recipients: readonly DocumentPeer[]): void;
}

/** An edit made by the server itself: an outside edit of the plain file, a restore, an import. */
export class ServerOrigin implements ChangeOrigin {
  constructor(readonly label: string) {}
}

/** How many structs (items, deleted ones too, and GC ranges) a document holds: what its memory grows with. */
function structCount(doc: Y.Doc): number {
  let count = 0;
  for (const structs of doc.store.clients.values()) count += structs.length;
  return count;
}

/** A document shared by its peers, kept durable in its storage. */
export class SharedDocument {
  readonly doc = new Y.Doc();
  readonly presence: PresenceTable;
  private readonly peers = new Set<DocumentPeer>();
  /** Settles once every append issued so far has settled. */
  private lastAppend: Promise<void> = Promise.resolve();
  /**
   * Set when an append failed (disk full, I/O error): the document in memory then holds
   * changes the storage lacks, so the next append stores the whole state, and nothing is ACKed
   * (not even a duplicate) before that succeeds.
   */
  private unstored = false;
  /** Whether a transaction changed anything since applyChange or applyStoredUpdate reset it, and the state vector before the first that did (an 'afterTransaction' listener: cheap, unlike 'update', for which Yjs encodes every change again). */
  private lastBefore: Map<number, number> = new Map();
  private lastChanged = false;
  /** When relayed updates last went out. */
  private lastFlush = -Infinity;
  /** Updates to relay at the end of this turn of the event loop, with their authors. */
  private pendingRelay: Array<{ update: Uint8Array; origin: unknown }> = [];
  /** Recipients of the update being applied now, for onChange. */
  private lastRecipients: DocumentPeer[] = [];
  private closed: Promise<void> | undefined;
  /** Other servers sharing the storage, as owners of the presence states they relayed (see applyRemotePresence). */
  private readonly remoteServers = new Map<string, ServerOrigin>();
  /** Those owners, also once dropped (their removal is not this server's news to pass on). */
  private readonly remoteOwners = new WeakSet<object>();

  private constructor(
    readonly name: string,
    private readonly stored: StoredDocument,
    private readonly options: SharedDocumentOptions,
  ) {
    // Each state must fit a message of its own (an AWARENESS message cannot be cut inside a state).
    const maxStateBytes = Math.min(
      options.presence.maxStateBytes,
      options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES - PRESENCE_ENTRY_OVERHEAD_BYTES,
    );
    this.presence = new PresenceTable(this.doc, { ...options.presence, maxStateBytes }, (ids, origin) => this.relayPresence(ids, origin));
  }

  /**
   * Loads a document from its storage: applies its history, attaches the live document to the
   * storage, and merges a plain-text copy edited while the server was away (an edit by `file`).
   */
  static async load(stored: StoredDocument, options: SharedDocumentOptions): Promise<SharedDocument> {
    const shared = new SharedDocument(stored.name, stored, options);
    const { doc } = shared;
    let index = 0;
    try {
      doc.transact(() => {
        for (; index < stored.history.length; index++) Y.applyUpdate(doc, stored.history[index]);
      });
    } catch (error) {
      await stored.close().catch(() => undefined);
      throw new HistoryError(stored.historyError(index, error).message, { cause: error });
    }
    // Never anything kept aside (see applyChange), not even from a history written before that rule.
    doc.store.pendingStructs = null;
    doc.store.pendingDs = null;
    doc.on('afterTransaction', shared.noteTransaction);
    try {
      await stored.attach(shared.view);
      if (stored.outsideEdit) await shared.mergeOutsideText(stored.outsideEdit);
    } catch (error) {
      await shared.close().catch(() => undefined);
      throw error;
    }
    return shared;
  }

  /** Clients connected to this document now. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** The document's text now. */
  get text(): string {
    return this.doc.getText(TEXT_NAME).toString();
  }

  /** Whether the storage existed before this load (history or a plain-text file). */
  get existed(): boolean {
    return this.stored.existed;
  }

  /** What the storage may read of the live document. */
  readonly view: LiveDocumentView = {
    encodeState: () => Y.encodeStateAsUpdate(this.doc),
    encodeSnapshot: () => snapshotOfDoc(this.doc),
    text: () => this.text,
    applyStoredUpdate: (update, origin) => this.applyStoredUpdate(update, new ServerOrigin(origin)),
    applyRemotePresence: (source, update) => this.applyRemotePresence(source, update),
    dropRemotePresence: (source) => {
      const owner = this.remoteServers.get(source);
      if (!owner) return;
      this.remoteServers.delete(source);
      this.presence.remove(owner);
    },
    localPresence: () => {
      const ids = this.presence.idsHeldBy((owner) => !this.isRemoteServer(owner));
      return ids.length ? this.presence.encodeParts(ids, Infinity)[0]! : null;
    },
    mergeOutsideText: (edit) => this.mergeOutsideText(edit),
  };

  /** Adds a client: it gets the server's state vector (sync step 1) and the current presence. */
  join(peer: DocumentPeer): void {
    this.peers.add(peer);
    peer.send(encodeMessage({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(this.doc) }));
    for (const update of this.presence.encodeAll(this.options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES)) {
      peer.send(encodeMessage({ type: MessageType.Awareness, update }));
    }
  }

  /** Gives a client with no presence of its own (a plain-text client) one the others see: `{ user: { name } }`, as editors set theirs. */
  holdPresence(peer: DocumentPeer, name: string): void {
    if (this.peers.has(peer)) this.presence.hold(peer, { user: { name } });
  }

  /** Removes a client and tells the others that its presence is gone. */
  leave(peer: DocumentPeer): void {
    if (!this.peers.delete(peer)) return;
    this.presence.remove(peer);
  }

  /**
   * The answer to a client's sync step 1: everything it lacks. Larger than one message, it is
   * several SYNC updates and a last part as step 2, so a client counts itself in sync only once
   * it has everything. Throws when the state vector cannot be read.
   */
  stepTwoFor(stateVector: Uint8Array): Uint8Array[] {
    const parts = splitUpdate(Y.encodeStateAsUpdate(this.doc, stateVector), this.options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES);
    return parts.map((data, i) =>
      encodeMessage({ type: MessageType.Sync, syncType: i === parts.length - 1 ? SyncType.Step2 : SyncType.Update, data }),
    );
  }

  /**
   * Applies a client's change (sync step 2 or update), relays it to the others, and resolves
   * once it and everything before it is stored. Throws UpdateRefusedError, the document, the
   * peers and the storage untouched, when the update cannot be applied, depends on changes the
   * document lacks, changes more than the text, or would pass maxDocumentChars; the promise
   * rejects with the storage's error when it cannot be stored.
   */
  applyChange(peer: DocumentPeer, received: Uint8Array): Promise<void> {
    let update = received;
    let decoded = checkTextUpdate(update, TEXT_NAME);
    // Structs the document has add nothing, but Yjs still looks up their origins and splits the
    // items those land in; a split inside a surrogate pair replaces both halves with U+FFFD, a
    // change no 'update' event reports (so it would be neither stored nor relayed). An update
    // that adds no struct is therefore applied as its deletions alone.
    const { store } = this.doc;
    if (decoded.structs.length && decoded.structs.every((s) => s.id.clock + s.length <= Y.getState(store, s.id.client))) {
      // Nothing new at all (an update sent again, a client's whole state once more): it changes
      // nothing, so it is not applied; its ACK waits for every append issued before it.
      if (decoded.deleted === 0 && !this.unstored) return this.lastAppend;
      update = encodeDeletions(decoded.ds);
      decoded = { inserted: '', deleted: decoded.deleted, structs: [], ds: decoded.ds };
    }
    if (this.wouldExceed(decoded)) {
      throw new UpdateRefusedError(
        'too-large',
        `The document may hold at most ${this.options.maxDocumentChars} characters; this edit would make it longer. It was not applied.`,
      );
    }
    // Yjs has no undo for an update that fails half way (it may integrate some structs and keep
    // others aside), so only an update that will apply whole reaches the document: one that
    // provably does from its decoded form (typing does), or else one that did on a copy.
    // An update adds at most three structs per struct it holds (itself, and a split of each
    // neighbour) and two per deleted range: within the item limit by that bound, it needs no copy.
    let ranges = 0;
    for (const list of decoded.ds.clients.values()) ranges += list.length;
    const bound = structCount(this.doc) + 3 * decoded.structs.length + 2 * ranges;
    if (!appliesCleanly(decoded, this.doc.store) || bound > this.options.maxDocumentItems) this.tryOnCopy(update);
    let failure: unknown;
    this.lastChanged = false;
    try {
      Y.applyUpdate(this.doc, update, peer);
    } catch (error) {
      failure = error;
    }
    // Not expected once the update was checked. Should it happen, the document keeps nothing
    // aside, and what it did apply is relayed and stored, with the whole state.
    if (store.pendingStructs || store.pendingDs) {
      store.pendingStructs = null;
      store.pendingDs = null;
      failure ??= new UpdateRefusedError('missing-dependency', MISSING_DEPENDENCY);
    }
    if (failure !== undefined) {
      if (this.lastChanged) this.relay(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(this.lastBefore)), peer);
      this.store(Y.encodeStateAsUpdate(this.doc)).catch(() => undefined);
      throw failure instanceof UpdateRefusedError
        ? failure
        : new UpdateRefusedError('malformed', 'The Yjs update could not be applied.', { cause: failure });
    }
    const changed = this.lastChanged;
    // A change that changes nothing (the empty sync step 2 of a client that joins with nothing
    // new, an update sent twice) is not stored: a document only looked at gets no files, and its
    // log no record. Its ACK still waits for every append issued before it.
    if (!changed && !this.unstored) return this.lastAppend;
    // What the client sent is what the others get (Yjs would encode it again for an 'update' listener).
    if (changed) this.relay(update, peer);
    const stored = this.unstored ? this.store(Y.encodeStateAsUpdate(this.doc)) : this.store(update);
    // After the append is issued: nothing in a log line may keep an applied change from the disk.
    if (changed) this.changed(peer, decoded);
    return stored;
  }

  /**
   * An edit by the server itself, made with the Y.Text API: applied, stored, relayed to every
   * client and logged like a client's, under `origin` (`file`, say). Resolves once stored.
   */
  edit(origin: ChangeOrigin, change: (text: Y.Text) => void): Promise<void> {
    let update: Uint8Array | undefined;
    const capture = (u: Uint8Array) => (update = u);
    this.lastRecipients = [];
    this.doc.on('update', capture);
    try {
      this.doc.transact(() => change(this.doc.getText(TEXT_NAME)), origin);
    } finally {
      this.doc.off('update', capture);
    }
    if (!update) return Promise.resolve();
    this.relay(update, origin);
    const stored = this.unstored ? this.store(Y.encodeStateAsUpdate(this.doc)) : this.store(update);
    this.changed(origin, checkTextUpdateQuietly(update));
    return stored;
  }

  /**
   * Merges a plain-text copy edited outside the server as an edit by `file` (see text-merge.ts):
   * three-way when the edit carries its base state, so typing since the base survives; against
   * the live text otherwise. Resolves once stored. Throws UpdateRefusedError ('too-large'), the
   * document untouched, when the result would pass maxDocumentChars.
   */
  async mergeOutsideText(edit: OutsideTextEdit): Promise<OutsideMergeResult> {
    if (edit.text === edit.base) return { merged: 'unchanged' };
    if (edit.text === this.text) return { merged: 'unchanged', fileSnapshot: snapshotOfDoc(this.doc) };
    const origin = new ServerOrigin('file');
    let why = 'no base was recorded';
    if (edit.base !== null && (edit.baseSnapshot || edit.baseState)) {
      const merge = mergeFileText(this.doc, { text: edit.base, snapshot: edit.baseSnapshot, state: edit.baseState }, edit.text);
      if (merge.kind === 'three-way') {
        if (!merge.apply) return { merged: 'unchanged', ...fileSnapshotOf(merge) };
        if (merge.lengthAfter > this.options.maxDocumentChars) throw this.tooLongForFile(edit, merge.lengthAfter);
        const stored = this.edit(origin, merge.apply);
        const result: OutsideMergeResult = { merged: 'three-way', ...fileSnapshotOf(merge) }; // before anything else is applied
        await stored;
        return result;
      }
      why = `its base cannot be used: ${merge.why}`;
    }
    if (edit.text.length > this.options.maxDocumentChars) throw this.tooLongForFile(edit, edit.text.length);
    const changes = diffText(this.text, edit.text);
    const stored = this.edit(origin, (text) => applyChangesToYText(text, changes));
    const fileSnapshot = snapshotOfDoc(this.doc); // its text is the file's now, before anything else is applied
    await stored;
    return { merged: 'two-way', why, fileSnapshot };
  }

  private tooLongForFile(edit: OutsideTextEdit, length: number): UpdateRefusedError {
    return new UpdateRefusedError(
      'too-large',
      `${edit.source} would make the document ${length} characters long, more than the ${this.options.maxDocumentChars} it may hold; it was not merged`,
    );
  }

  /** Applies an update the storage already holds (written by another server): relayed here, not stored again. */
  applyStoredUpdate(update: Uint8Array, origin: ChangeOrigin): void {
    this.lastRecipients = [];
    this.lastChanged = false;
    Y.applyUpdate(this.doc, update, origin);
    if (!this.lastChanged) return;
    this.relay(update, origin);
    this.stored.changed();
    this.options.onChange?.(this.name, origin, checkTextUpdateQuietly(update), this.lastRecipients);
  }

  /** Presence another server relayed for its clients (see LiveDocumentView.applyRemotePresence). */
  private applyRemotePresence(source: string, update: Uint8Array): void {
    let owner = this.remoteServers.get(source);
    if (!owner) {
      this.remoteServers.set(source, (owner = new ServerOrigin(`server ${source}`)));
      this.remoteOwners.add(owner);
    }
    try {
      this.presence.applyRemote(owner, update);
    } catch {
      // That server checked it already; one this server cannot read is not worth more than its loss.
    }
  }

  private isRemoteServer(owner: unknown): boolean {
    return typeof owner === 'object' && owner !== null && this.remoteOwners.has(owner);
  }

  /** Applies a client's awareness update, relayed to the others; throws PresenceRefusedError before anything changes. */
  applyAwareness(peer: DocumentPeer, update: Uint8Array): PresenceOutcome {
    return this.presence.apply(peer, update);
  }

  /** Every peer's presence, for QUERY_AWARENESS: AWARENESS messages, none when nobody is present. */
  awarenessMessages(): Uint8Array[] {
    return this.presence
      .encodeAll(this.options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES)
      .map((update) => encodeMessage({ type: MessageType.Awareness, update }));
  }

  /** Writes the plain-text copy now. */
  flushText(): Promise<void> {
    return this.stored.flushText();
  }

  /** Waits for every append issued so far. */
  settled(): Promise<void> {
    return this.lastAppend.catch(() => undefined);
  }

  /** Detaches and closes the storage (which writes the plain-text copy); idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.flushRelay();
      this.doc.off('afterTransaction', this.noteTransaction);
      this.presence.destroy();
      // The storage waits for the appends under way itself; it is told at once, so a document
      // asked for meanwhile is loaded afresh once everything is written.
      await this.stored.close();
    })();
    return this.closed;
  }

  /** Whether the characters an update adds beyond what the document has would pass the limit. */
  private wouldExceed(update: TextUpdate): boolean {
    const max = this.options.maxDocumentChars;
    const length = this.doc.getText(TEXT_NAME).length;
    if (length + update.inserted.length <= max) return false;
    // Count only text beyond what the document already has: a client resending its whole state
    // near the limit adds nothing.
    let added = 0;
    for (const struct of update.structs) {
      if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString)) continue;
      const known = Y.getState(this.doc.store, struct.id.client);
      const end = struct.id.clock + struct.length;
      if (end > known) added += Math.min(struct.length, end - known);
    }
    return added > 0 && length + added > max;
  }

  /**
   * Applies an update to a copy of the document; throws, leaving the document untouched, when Yjs
   * cannot apply it or would keep part of it aside (it waits for changes the document lacks: a
   * well-behaved client never sends that, and junk kept aside breaks later valid updates). Costs a
   * copy of the document: only for updates that are not provably clean.
   */
  private tryOnCopy(update: Uint8Array): void {
    const copy = new Y.Doc({ gc: this.doc.gc });
    let failure: unknown;
    try {
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(this.doc));
      Y.applyUpdate(copy, update);
    } catch (error) {
      failure = error;
    }
    const clean = failure === undefined && !copy.store.pendingStructs && !copy.store.pendingDs;
    const items = clean ? structCount(copy) : 0;
    copy.destroy();
    if (clean) {
      // Counted once applied (Yjs merges and splits items as it integrates them); a change that
      // adds no items (a deletion of whole items, a resent state) is fine even past the limit.
      const max = this.options.maxDocumentItems;
      if (items <= max || items <= structCount(this.doc)) return;
      throw new UpdateRefusedError(
        'too-many-items',
        `The document may hold at most ${max} separate pieces of text (each insertion typed apart from the others is one, deleted ones too); this edit would add more. It was not applied.`,
      );
    }
    if (failure === undefined) throw new UpdateRefusedError('missing-dependency', MISSING_DEPENDENCY);
    throw new UpdateRefusedError('malformed', 'The Yjs update could not be applied.', { cause: failure });
  }

  // Notes the first transaction that changed something since applyChange (or applyStoredUpdate)
  // reset lastChanged. Empty transactions are not evidence of anything: Yjs opens one when a text
  // observer reads event.delta (a plain-text client's session does), after the change's own.
  private readonly noteTransaction = (transaction: Y.Transaction) => {
    if (this.lastChanged) return;
    if (transaction.changed.size === 0 && transaction.deleteSet.clients.size === 0 && !stateMoved(transaction)) return;
    this.lastBefore = transaction.beforeState;
    this.lastChanged = true;
  };

  /** Appends a record; after a failure the next one holds the whole state (see `unstored`). */
  private store(record: Uint8Array): Promise<void> {
    this.unstored = false;
    const appended = this.stored.append(record);
    // Appends that share a commit may share a promise (the file storage's do): one handler each.
    if (appended !== this.lastAppend) appended.catch(this.markUnstored);
    this.lastAppend = appended;
    return appended;
  }

  private readonly markUnstored = (): void => {
    this.unstored = true;
  };

  private changed(origin: ChangeOrigin, shape: UpdateShape): void {
    this.stored.changed();
    this.options.onChange?.(this.name, origin, shape, this.lastRecipients);
  }

  /**
   * Sends an update to every peer but `origin`. Updates relayed in one turn of the event loop
   * (several clients typing at once) go out together, merged into one message per recipient,
   * at the end of the turn: fewer, larger frames, as Hocuspocus sends them.
   */
  private relay(update: Uint8Array, origin: unknown): void {
    const recipients = this.peers.size ? [...this.peers].filter((p) => p !== origin) : [];
    this.lastRecipients = recipients;
    if (!recipients.length) return;
    this.pendingRelay.push({ update, origin });
    if (this.pendingRelay.length > 1) return;
    // At the end of this turn; with a relayIntervalMs, under load at most one flush per interval,
    // so that each client gets one write per interval, not one per edit (the wait only comes
    // when edits arrive faster than that: a lone typist's keystrokes go out at once).
    const wait = this.lastFlush + (this.options.relayIntervalMs ?? DEFAULT_RELAY_INTERVAL_MS) - performance.now();
    if (wait <= 0) setImmediate(this.flushRelay);
    else setTimeout(this.flushRelay, wait);
  }

  /**
   * Sends what relay() gathered; also before presence, so a cursor never arrives before its text.
   * Clients that wrote none of a batch large enough to merge (see MERGE_SAVED_SENDS; most
   * clients) get it merged; an author gets the others' updates one by one (a merge per author
   * would cost the square of the batch), as everyone does when the batch is smaller.
   */
  private readonly flushRelay = (): void => {
    const batch = this.pendingRelay;
    if (!batch.length) return;
    this.pendingRelay = [];
    this.lastFlush = performance.now();
    if ((batch.length - 1) * this.peers.size < MERGE_SAVED_SENDS) {
      // Merging would cost more than the sends it saves (see MERGE_SAVED_SENDS).
      for (const { update, origin } of batch) {
        const payloads = this.relayMessages(update);
        for (const p of this.peers) if (p !== origin) for (const payload of payloads) p.send(payload);
      }
      return;
    }
    const single = batch.map(({ update, origin }) => ({ origin, payloads: undefined as Uint8Array[] | undefined, update }));
    const one = (entry: (typeof single)[number]) => (entry.payloads ??= this.relayMessages(entry.update));
    let merged: Uint8Array[] | undefined;
    const authors = new Set(batch.map((b) => b.origin));
    for (const p of this.peers) {
      if (authors.has(p)) {
        for (const entry of single) if (entry.origin !== p) for (const payload of one(entry)) p.send(payload);
        continue;
      }
      merged ??= mergeInChunks(batch.map((b) => b.update)).flatMap((update) => this.relayMessages(update));
      for (const payload of merged) p.send(payload);
    }
  };

  /** An update as the SYNC update messages that carry it (several when it is larger than one message). */
  private relayMessages(update: Uint8Array): Uint8Array[] {
    return splitUpdate(update, this.options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES).map((data) =>
      encodeMessage({ type: MessageType.Sync, syncType: SyncType.Update, data }),
    );
  }

  private relayPresence(ids: number[], origin: unknown): void {
    this.flushRelay();
    // This server's clients' presence goes to the other servers sharing the storage (if any).
    if (this.stored.presenceChanged && !this.isRemoteServer(origin))
      this.stored.presenceChanged(this.presence.encodeParts(ids, Infinity)[0]!);
    const recipients = [...this.peers].filter((p) => p !== origin);
    if (!recipients.length) return;
    const payloads = this.presence
      .encodeParts(ids, this.options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES)
      .map((update) => encodeMessage({ type: MessageType.Awareness, update }));
    for (const p of recipients) for (const payload of payloads) p.send(payload);
  }
}

/** The merge's file snapshot, as a result field (none when the document cannot show the file's text). */
function fileSnapshotOf(merge: ThreeWayMerge): { fileSnapshot?: Uint8Array } {
  const fileSnapshot = merge.fileSnapshot();
  return fileSnapshot ? { fileSnapshot } : {};
}

const MISSING_DEPENDENCY =
  "The Yjs update depends on changes the server does not have (send those first, or answer the server's sync step 1); it was not applied.";

/** By default relays go out at the end of each turn (see relay() and CoreSettings.relayIntervalMs). */
const DEFAULT_RELAY_INTERVAL_MS = 0;

/**
 * A batch is merged before it is relayed once merging saves this many sends: (updates - 1) x
 * clients. Y.mergeUpdates costs about the same whoever gets the result, while each update sent
 * apart costs a send per client; below this the updates go one by one, all in the same write to
 * each client. At 10 clients that merges batches of 8 or more (at 2,000 edits/s most hold 1-3,
 * and merging those cost more than it saved); at 100 clients, every batch of two or more.
 */
const MERGE_SAVED_SENDS = 64;

/** Updates merged a bounded number at a time (Y.mergeUpdates costs more than linear time in their number). */
const MERGE_CHUNK = 64;

function mergeInChunks(updates: Uint8Array[]): Uint8Array[] {
  const merged: Uint8Array[] = [];
  for (let i = 0; i < updates.length; i += MERGE_CHUNK) {
    const chunk = updates.slice(i, i + MERGE_CHUNK);
    merged.push(chunk.length === 1 ? chunk[0]! : Y.mergeUpdates(chunk));
  }
  return merged;
}

/** Whether a transaction added structs (a GC'd insertion changes no type, but moves the state vector). */
function stateMoved(transaction: Y.Transaction): boolean {
  for (const [client, clock] of transaction.afterState) if (transaction.beforeState.get(client) !== clock) return true;
  return false;
}

/** What an update the server made or received inserts and deletes, for the log; never throws. */
function checkTextUpdateQuietly(update: Uint8Array): UpdateShape {
  try {
    return checkTextUpdate(update, TEXT_NAME);
  } catch {
    return { inserted: '', deleted: 0 };
  }
}
