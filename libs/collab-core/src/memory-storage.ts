// Storage in memory: what the unit tests of the core and the fuzzer use where the disk is not
// the subject. Appends resolve on the next microtask, as a fast disk's would, and may be made to
// fail (a disk-full error cannot be caused for real in memory).

import * as Y from 'yjs';
import type { DocumentStorage, LiveDocumentView, OutsideTextEdit, StoredDocument } from './storage';

/** What MemoryStorage keeps of one document. */
export interface MemoryRecord {
  /** Every update stored, in order (a compaction replaces them with one). */
  updates: Uint8Array[];
  /** The plain-text copy, as the last flush or close left it; null when never written. */
  text: string | null;
}

/** An error a failing MemoryStorage rejects appends with. */
export class MemoryStorageFault extends Error {
  readonly code = 'COLLAB_ERR_STORAGE';
  constructor() {
    super('the storage refuses writes (a fault injected in memory)');
    this.name = 'MemoryStorageFault';
  }
}

/** Documents kept in a Map; survives close() so a test can open it again as a restarted server would. */
export class MemoryStorage implements DocumentStorage {
  readonly records = new Map<string, MemoryRecord>();
  /** While true, every append rejects with MemoryStorageFault. */
  failAppends = false;
  /** Outside edits to report at the next open of a document, by name. */
  readonly outsideEdits = new Map<string, OutsideTextEdit>();
  private readonly open_ = new Map<string, MemoryDocument>();

  async open(name: string): Promise<StoredDocument> {
    const record = this.records.get(name);
    const outsideEdit = this.outsideEdits.get(name) ?? null;
    this.outsideEdits.delete(name);
    const document = new MemoryDocument(this, name, record ? [...record.updates] : [], outsideEdit, record !== undefined);
    this.open_.set(name, document);
    return document;
  }

  /** The record of `name`, made on first use. */
  recordOf(name: string): MemoryRecord {
    let record = this.records.get(name);
    if (!record) this.records.set(name, (record = { updates: [], text: null }));
    return record;
  }

  /** A Y.Doc holding what is stored for `name`: what a restart would load. */
  load(name: string): Y.Doc {
    const doc = new Y.Doc();
    for (const update of this.records.get(name)?.updates ?? []) Y.applyUpdate(doc, update);
    return doc;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open_.values()].map((d) => d.close()));
    this.open_.clear();
  }

  /** Called by a document once it has closed. */
  forget(document: MemoryDocument): void {
    if (this.open_.get(document.name) === document) this.open_.delete(document.name);
  }
}

class MemoryDocument implements StoredDocument {
  private view: LiveDocumentView | undefined;
  private closing: Promise<void> | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: MemoryStorage,
    readonly name: string,
    readonly history: readonly Uint8Array[],
    readonly outsideEdit: OutsideTextEdit | null,
    readonly existed: boolean,
  ) {}

  historyError(index: number, cause: unknown): Error {
    return new Error(`update ${index} of ${this.name} in memory cannot be applied: ${(cause as Error)?.message ?? String(cause)}`);
  }

  attach(view: LiveDocumentView): void {
    this.view = view;
  }

  append(update: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`document ${this.name} is closed`));
    if (this.storage.failAppends) return Promise.reject(new MemoryStorageFault());
    const copy = update.slice();
    const stored = this.pending.then(() => {
      this.storage.recordOf(this.name).updates.push(copy);
    });
    this.pending = stored;
    return stored;
  }

  changed(): void {
    // The text copy is written on flushText and close only.
  }

  async flushText(): Promise<void> {
    if (this.view) this.storage.recordOf(this.name).text = this.view.text();
  }

  async compact(): Promise<void> {
    await this.pending;
    if (this.view) this.storage.recordOf(this.name).updates = [this.view.encodeState()];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.pending;
      if (this.view && this.storage.records.has(this.name)) this.storage.recordOf(this.name).text = this.view.text();
      this.storage.forget(this);
    })();
    return this.closing;
  }
}
