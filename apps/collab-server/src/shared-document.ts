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

  constructor(
    readonly name: string,
    private readonly stored: DocumentFiles,
    private readonly events: DocumentEvents,
  ) {
    this.awareness = new Awareness(stored.doc);
    // The server is no one in the document: it only relays other people's presence.
    this.awareness.setLocalState(null);
    stored.doc.on('update', this.relayUpdate);
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
   * once it and everything before it is on disk. Throws at once (before anything changes) when
   * the update cannot be decoded; the promise rejects with the store's error when it cannot be stored.
   */
  applyChange(peer: DocumentPeer, update: Uint8Array): Promise<void> {
    let changed = false;
    const noteChange = () => (changed = true);
    this.doc.on('update', noteChange);
    try {
      Y.applyUpdate(this.doc, update, peer);
    } catch (error) {
      // Yjs may have integrated part of the update before failing, and relayed it: store
      // the whole state so that what the others now have survives a restart.
      if (changed) this.store(Y.encodeStateAsUpdate(this.doc)).catch(() => undefined);
      throw error;
    } finally {
      this.doc.off('update', noteChange);
    }
    if (changed) this.events.onTextChanged(peer, () => summariseUpdate(update));
    // Every change frame is stored, even one that changed nothing visible: parts of it may
    // wait in Yjs for a missing dependency (Yjs merges those into its pending set in place,
    // so they cannot be told from a duplicate cheaply), and a true duplicate costs a few bytes.
    return this.store(this.unstored ? Y.encodeStateAsUpdate(this.doc) : update);
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

  /** Applies a client's awareness update; the change is relayed to the others. */
  applyAwareness(peer: DocumentPeer, update: Uint8Array): void {
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
    const owner = this.presence.get(origin as DocumentPeer);
    if (owner) {
      for (const id of added) owner.add(id);
      for (const id of removed) owner.delete(id);
    }
    const changed = [...added, ...updated, ...removed];
    const recipients = [...this.peers].filter((p) => p !== origin);
    if (!changed.length || !recipients.length) return;
    const frame = encodeMessageFrame({ type: MessageType.Awareness, update: encodeAwarenessUpdate(this.awareness, changed) });
    for (const p of recipients) p.sendFrame(frame);
  };
}
