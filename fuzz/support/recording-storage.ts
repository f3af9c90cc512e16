// A DocumentStorage decorator that watches what the core hands to the real storage underneath
// (files or memory): every append is also applied to a Y.Doc of its own, so "the document in
// memory is what was stored" can be checked at any time; a document loaded again must load
// what was appended before; a document unloaded must have stored all it held. It also counts
// the storage calls under way, so a fuzz run can wait until nothing moves.
import * as Y from 'yjs';
import { TEXT_NAME, type DocumentStorage, type LiveDocumentView, type StoredDocument } from '@collab/collab-core';
import { newDoc } from './yjs-samples';

/** What was handed to the storage for one document, across its loads. */
export interface StorageRecord {
  /** Every update appended (after the history of the first load), applied in order. */
  readonly stored: Y.Doc;
  /** The live document while loaded. */
  view: LiveDocumentView | undefined;
  /** Appends that changed `stored` with bytes nobody well-behaved sent (see RecordingStorage.genuine). */
  junk: number;
  loads: number;
}

/** Whether two docs hold the same items and deletions (state vector and delete set). */
export function sameContent(a: Y.Doc, b: Y.Doc): boolean {
  return Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b));
}

/** Wraps a storage; `failures` lists what the checks above found, in words. */
export class RecordingStorage implements DocumentStorage {
  readonly records = new Map<string, StorageRecord>();
  /** Property failures found while the core used the storage. */
  readonly failures: string[] = [];
  /** Hex of updates sent by well-behaved clients; an append of anything else that changes the document is junk. */
  readonly genuine = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Bumped when a storage call starts or ends. */
  activity = 0;

  constructor(
    private readonly inner: DocumentStorage,
    private readonly onActivity: () => void = () => undefined,
  ) {}

  /** Resolves once every call under way now has settled. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async open(name: string): Promise<StoredDocument> {
    const inner = await this.track(this.inner.open(name));
    let record = this.records.get(name);
    const loaded = newDoc();
    try {
      for (const update of inner.history) Y.applyUpdate(loaded, update);
    } catch (error) {
      this.failures.push(`${name}: its stored history cannot be applied: ${(error as Error).message}`);
    }
    if (!record) {
      record = { stored: loaded, view: undefined, junk: 0, loads: 0 };
      this.records.set(name, record);
    } else if (!sameContent(loaded, record.stored)) {
      this.failures.push(`${name}: loaded again, it holds ${JSON.stringify(loaded.getText(TEXT_NAME).toString())}, not what was stored`);
    }
    if (inner.outsideEdit)
      this.failures.push(`${name}: the storage reports an outside edit of ${inner.outsideEdit.source} that nobody made`);
    record.loads++;
    return new RecordingDocument(inner, record, this);
  }

  close(): Promise<void> {
    return this.track(this.inner.close());
  }

  /** Counts `promise` as under way until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    this.bump();
    const done = () => {
      this.pending.delete(promise);
      this.bump();
    };
    promise.then(done, done);
    return promise;
  }

  private bump(): void {
    this.activity++;
    this.onActivity();
  }
}

class RecordingDocument implements StoredDocument {
  constructor(
    private readonly inner: StoredDocument,
    private readonly record: StorageRecord,
    private readonly storage: RecordingStorage,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get history(): readonly Uint8Array[] {
    return this.inner.history;
  }

  get outsideEdit() {
    return this.inner.outsideEdit;
  }

  get existed(): boolean {
    return this.inner.existed;
  }

  historyError(index: number, cause: unknown): Error {
    return this.inner.historyError(index, cause);
  }

  attach(view: LiveDocumentView): void | Promise<void> {
    this.record.view = view;
    const attached = this.inner.attach(view);
    return attached && this.storage.track(attached);
  }

  append(update: Uint8Array): Promise<void> {
    const { stored } = this.record;
    let changed = false;
    const note = () => (changed = true);
    stored.on('update', note);
    try {
      Y.applyUpdate(stored, update);
    } catch (error) {
      this.storage.failures.push(
        `${this.name}: an update handed to the storage cannot be applied to what was stored before: ${(error as Error).message}`,
      );
    } finally {
      stored.off('update', note);
    }
    // Deletions alone (what the core keeps of an update whose structs it has) are applied alike
    // everywhere; junk is what adds structs no well-behaved client sent.
    if (changed && !this.storage.genuine.has(Buffer.from(update).toString('hex')) && Y.decodeUpdate(update).structs.length)
      this.record.junk++;
    return this.storage.track(this.inner.append(update));
  }

  changed(): void {
    this.inner.changed();
  }

  flushText(): Promise<void> {
    return this.storage.track(this.inner.flushText());
  }

  compact(): Promise<void> {
    return this.storage.track(this.inner.compact());
  }

  close(): Promise<void> {
    const { view, stored } = this.record;
    // The core closes a document once its last client left: everything it held must be stored by now.
    if (view) {
      const live = newDoc();
      Y.applyUpdate(live, view.encodeState());
      if (!sameContent(live, stored)) {
        this.storage.failures.push(
          `${this.name}: unloaded holding ${JSON.stringify(view.text())}, but what was stored holds ${JSON.stringify(stored.getText(TEXT_NAME).toString())}`,
        );
      }
    }
    this.record.view = undefined;
    return this.storage.track(this.inner.close());
  }
}
