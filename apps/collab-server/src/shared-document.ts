import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { TEXT_NAME, type DocumentFiles } from '@collab/persistence';
import { encodeMessageFrame, MessageType, SyncType, type Message } from '@collab/collab-protocol';
import { summariseUpdate } from './update-summary';

/** What a document needs of each client connected to it. */
export interface DocumentPeer {
  /** `127.0.0.1:51234` or `[::1]:51234`, as the logs show it. */
  readonly label: string;
  /** Queues a message for this client (batched per tick). */
  send(message: Message): void;
  /** Queues an already framed message (one encoding shared by every recipient). */
  sendFrame(frame: Buffer): void;
}

/** Hooks for the logs; the document itself does no logging. */
export interface DocumentEvents {
  /** A client's change reached the document; `summary()` says what it inserted or deleted. */
  onTextChanged(peer: DocumentPeer, summary: () => string): void;
  /** A change was relayed to these peers. */
  onRelayed(recipients: readonly DocumentPeer[]): void;
}

/**
 * One open document: its Y.Doc (from the store), the presence of the people in it, and the
 * clients to relay to. Changes are applied and relayed at once; only the ACK waits for the
 * disk. Appends are issued in the order changes are applied, and the store commits them in
 * that order, so "everything up to here is stored" is one promise chain.
 */
export class SharedDocument {
  readonly awareness: Awareness;
  private readonly peers = new Set<DocumentPeer>();
  /** Awareness client ids each peer announced, so they can be removed when it leaves. */
  private readonly presence = new Map<DocumentPeer, Set<number>>();
  /** Settles once every append issued so far has settled. */
  private lastAppend: Promise<void> = Promise.resolve();
  /**
   * Set when an append failed (disk full, I/O error): the document in memory then holds
   * changes the disk lacks, so the next append stores the whole state, and nothing is ACKed
   * (not even a duplicate) before that succeeds.
   */
  private unstored = false;
  /**
   * A second copy of the document, kept equal to it, where each client update is tried first.
   * Yjs has no undo for an update that fails half way (it may have integrated some structs,
   * kept others aside, and relayed them), so only an update that applies cleanly here, and
   * needs nothing the document lacks, reaches the document itself. Costs a second apply per
   * update and a second copy in memory; rebuilt from the document after a refused update.
   */
  private trial: Y.Doc;
  /** True while the document applies an update the trial copy already holds. */
  private tried = false;

  constructor(
    readonly name: string,
    private readonly stored: DocumentFiles,
    private readonly events: DocumentEvents,
  ) {
    // Never anything kept aside (see applyChange), not even from a log written before that rule.
    stored.doc.store.pendingStructs = null;
    stored.doc.store.pendingDs = null;
    this.trial = copyOf(stored.doc);
    this.awareness = new Awareness(stored.doc);
    // The server is no one in the document: it only relays other people's presence.
    this.awareness.setLocalState(null);
    stored.doc.on('update', this.relayUpdate);
    stored.doc.on('update', this.followInTrial);
    this.awareness.on('update', this.relayAwareness);
  }

  /** The Y.Doc holding the text (Y.Text `content`). */
  get doc(): Y.Doc {
    return this.stored.doc;
  }

  /** Clients connected to this document now. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** The document's text now. */
  get text(): string {
    return this.stored.doc.getText(TEXT_NAME).toString();
  }

  /** Adds a client: it gets the server's state vector (sync step 1) and the current presence. */
  join(peer: DocumentPeer): void {
    this.peers.add(peer);
    this.presence.set(peer, new Set());
    peer.send({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(this.doc) });
    const states = [...this.awareness.getStates().keys()];
    if (states.length) peer.send({ type: MessageType.Awareness, update: encodeAwarenessUpdate(this.awareness, states) });
  }

  /** Removes a client and tells the others that its presence is gone. */
  leave(peer: DocumentPeer): void {
    if (!this.peers.delete(peer)) return;
    const ids = this.presence.get(peer);
    this.presence.delete(peer);
    if (ids?.size) removeAwarenessStates(this.awareness, [...ids], peer);
  }

  /** The answer to a client's sync step 1: everything it lacks (sync step 2). */
  stepTwoFor(stateVector: Uint8Array): Message {
    return { type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(this.doc, stateVector) };
  }

  /**
   * Applies a client's change (sync step 2 or update), relays it to the others, and resolves
   * once it and everything before it is on disk. Throws, the document unchanged, when the update
   * cannot be applied or depends on changes the server does not have (MissingDependencyError);
   * the promise rejects with the store's error when it cannot be stored.
   */
  applyChange(peer: DocumentPeer, update: Uint8Array): Promise<void> {
    this.tryUpdate(update);
    let changed = false;
    const noteChange = () => (changed = true);
    let failure: unknown;
    this.doc.on('update', noteChange);
    this.tried = true;
    try {
      Y.applyUpdate(this.doc, update, peer);
    } catch (error) {
      failure = error;
    } finally {
      this.tried = false;
      this.doc.off('update', noteChange);
    }
    // Not expected once the trial copy took it. Should it happen (a corrupt update can meet
    // the document's structs split otherwise than the copy's, or an 'update' listener can
    // throw), the document keeps nothing aside, and what it did apply (and relay) is stored,
    // with the whole state: this path is rare, and the common one stays free of extra work.
    const { store } = this.doc;
    if (store.pendingStructs || store.pendingDs) {
      store.pendingStructs = null;
      store.pendingDs = null;
      failure ??= new MissingDependencyError();
    }
    if (failure !== undefined) {
      this.store(Y.encodeStateAsUpdate(this.doc)).catch(() => undefined);
      this.resetTrial();
      throw failure;
    }
    const stored = this.unstored ? this.store(Y.encodeStateAsUpdate(this.doc)) : this.store(update);
    // After the append is issued: nothing in a log line may keep an applied change from the disk.
    if (changed) this.events.onTextChanged(peer, () => summariseUpdate(update));
    return stored;
  }

  /**
   * Applies an update to the trial copy; throws, leaving the document untouched, when Yjs
   * cannot apply it or would keep part of it aside. What Yjs keeps aside waits for changes the
   * document lacks: a well-behaved client never sends that (after a reconnect it answers the
   * server's sync step 1 with everything the server lacks), and junk kept aside makes later,
   * valid updates fail when Yjs retries it, and a log holding it fail to load.
   */
  private tryUpdate(update: Uint8Array): void {
    let failure: unknown;
    try {
      Y.applyUpdate(this.trial, update);
    } catch (error) {
      failure = error;
    }
    const { store } = this.trial;
    if (failure === undefined && !store.pendingStructs && !store.pendingDs) return;
    this.resetTrial();
    throw failure ?? new MissingDependencyError();
  }

  /** Keeps the trial copy equal to the document when something else changed it. */
  private readonly followInTrial = (update: Uint8Array) => {
    if (this.tried) return;
    try {
      Y.applyUpdate(this.trial, update);
    } catch {
      this.resetTrial();
    }
  };

  private resetTrial(): void {
    this.trial.destroy();
    this.trial = copyOf(this.doc);
  }

  /** Appends a record; after a failure the next one holds the whole state (see `unstored`). */
  private store(record: Uint8Array): Promise<void> {
    this.unstored = false;
    const appended = this.stored.append(record);
    appended.catch(() => (this.unstored = true));
    this.lastAppend = appended;
    return appended;
  }

  /**
   * Whether an update could take the text past maxChars. Cheap when far from the limit (an
   * update inserts at most as many characters as it has bytes); near it, the update is read.
   */
  wouldExceed(update: Uint8Array, maxChars: number): boolean {
    const length = this.doc.getText(TEXT_NAME).length;
    if (length + update.byteLength <= maxChars) return false;
    let inserted = 0;
    try {
      for (const struct of Y.decodeUpdate(update).structs) {
        if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) inserted += struct.content.str.length;
      }
    } catch {
      return false; // undecodable: applyChange refuses it with its own error
    }
    return inserted > 0 && length + inserted > maxChars;
  }

  /**
   * Applies a client's awareness update; the change is relayed to the others. Throws (before
   * anything changes) when the update cannot be read: y-protocols sets states entry by entry
   * and reports them at the end, so a bad entry half way would leave unreported states behind.
   */
  applyAwareness(peer: DocumentPeer, update: Uint8Array): void {
    checkAwarenessUpdate(update);
    applyAwarenessUpdate(this.awareness, update, peer);
  }

  /** Every peer's presence, for QUERY_AWARENESS. */
  awarenessMessage(): Message {
    return { type: MessageType.Awareness, update: encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]) };
  }

  /** Writes NAME.txt now (it is otherwise written shortly after changes, and on close). */
  flushText(): Promise<void> {
    return this.stored.flushText();
  }

  /** Waits for every append issued so far. */
  settled(): Promise<void> {
    return this.lastAppend.catch(() => undefined);
  }

  /** Detaches from the Y.Doc and closes the stored document (writes NAME.txt); idempotent through the store. */
  async close(): Promise<void> {
    this.doc.off('update', this.relayUpdate);
    this.doc.off('update', this.followInTrial);
    this.trial.destroy();
    this.awareness.off('update', this.relayAwareness);
    this.awareness.destroy();
    await this.stored.close();
  }

  private readonly relayUpdate = (update: Uint8Array, origin: unknown) => {
    const recipients = [...this.peers].filter((p) => p !== origin);
    if (!recipients.length) return;
    const frame = encodeMessageFrame({ type: MessageType.Sync, syncType: SyncType.Update, data: update });
    for (const p of recipients) p.sendFrame(frame);
    this.events.onRelayed(recipients);
  };

  private readonly relayAwareness = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    // A client id belongs to the connection that last set its state. Awareness reports a
    // state as "updated" rather than "added" when it met the id before (a client that
    // reconnects keeps its id; one that said it was gone may come back), so both count.
    // One update can remove a state and set it again: what counts is the state at the end.
    const owner = this.presence.get(origin as DocumentPeer);
    const states = this.awareness.getStates();
    for (const id of [...added, ...updated, ...removed]) {
      if (!states.has(id)) {
        for (const ids of this.presence.values()) ids.delete(id);
      } else if (owner && !owner.has(id)) {
        for (const ids of this.presence.values()) ids.delete(id);
        owner.add(id);
      }
    }
    const changed = [...added, ...updated, ...removed];
    const recipients = [...this.peers].filter((p) => p !== origin);
    if (!changed.length || !recipients.length) return;
    const frame = encodeMessageFrame({ type: MessageType.Awareness, update: encodeAwarenessUpdate(this.awareness, changed) });
    for (const p of recipients) p.sendFrame(frame);
  };
}

/** A fresh Y.Doc holding what `doc` holds. */
function copyOf(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

/** An update that needs changes the server does not have (Yjs would keep it aside). */
export class MissingDependencyError extends Error {
  constructor() {
    super('the update depends on changes the server does not have');
    this.name = 'MissingDependencyError';
  }
}

/** Reads an awareness update through (y-protocols' format) and throws where it is not valid. */
function checkAwarenessUpdate(update: Uint8Array): void {
  const decoder = decoding.createDecoder(update);
  const entries = decoding.readVarUint(decoder);
  for (let i = 0; i < entries; i++) {
    decoding.readVarUint(decoder); // client id
    decoding.readVarUint(decoder); // clock
    JSON.parse(decoding.readVarString(decoder));
  }
}
