// The documents a server has loaded: each is loaded once however many clients ask for it, held
// while anyone uses it (clients, or the server's own edits), and unloaded a while after the last
// one lets go. At most maxDocuments are loaded (or being written out) at once.

import type { Logger } from '@collab/logging';
import { CoreClosedError, TooManyDocumentsError } from './errors';
import { SharedDocument, type ChangeOrigin, type SharedDocumentOptions } from './shared-document';
import type { DocumentStorage } from './storage';
import type * as Y from 'yjs';

interface Entry {
  readonly loading: Promise<SharedDocument>;
  /** Holders now: sessions in the document or joining it, and server edits under way. */
  holders: number;
  unloadTimer?: NodeJS.Timeout;
}

/** Settings of a DocumentRegistry. */
export interface RegistryOptions {
  maxDocuments: number;
  unloadAfterMs: number;
  document: SharedDocumentOptions;
}

/** Loads, shares and unloads the documents of one storage. */
export class DocumentRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Documents being written out and closed; one asked for meanwhile waits, then loads again. */
  private readonly unloading = new Map<string, Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly storage: DocumentStorage,
    private readonly options: RegistryOptions,
    private readonly logger: Logger,
  ) {}

  /** Names of the documents loaded (or loading) now. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  /** The loaded document `name`, if it is loaded (not merely loading). */
  async loaded(name: string): Promise<SharedDocument | undefined> {
    return this.entries.get(name)?.loading.catch(() => undefined);
  }

  /**
   * Loads (or finds) document `name` and holds it until release(): rejects with
   * TooManyDocumentsError at the limit, CoreClosedError once closing, or the storage's error.
   */
  acquire(name: string): Promise<SharedDocument> {
    if (this.closing) return Promise.reject(new CoreClosedError());
    const entry = this.entries.get(name);
    if (entry) {
      entry.holders++;
      clearTimeout(entry.unloadTimer);
      entry.unloadTimer = undefined;
      return entry.loading;
    }
    const unloading = this.unloading.get(name);
    if (unloading) return unloading.then(() => this.acquire(name));
    const { maxDocuments } = this.options;
    if (this.entries.size + this.unloading.size >= maxDocuments) {
      this.logger.warn(`${maxDocuments} documents are open (the limit); refused to open ${name}`);
      return Promise.reject(new TooManyDocumentsError(maxDocuments));
    }
    const loading = this.storage.open(name).then((stored) => SharedDocument.load(stored, this.options.document));
    const created: Entry = { loading, holders: 1 };
    this.entries.set(name, created);
    loading.catch(() => {
      if (this.entries.get(name) === created) this.entries.delete(name);
    });
    return loading;
  }

  /** Lets go of a document acquire() gave; the last one to let go starts the unload timer. */
  release(document: SharedDocument): void {
    const entry = this.entries.get(document.name);
    if (!entry) return;
    entry.holders--;
    if (entry.holders <= 0) this.scheduleUnload(document.name, entry);
  }

  /**
   * An edit by the server itself (an outside edit of the plain file, a restore): loads the
   * document if needed, applies, stores, relays and logs it under `origin`; resolves once stored.
   */
  async edit(name: string, origin: ChangeOrigin, change: (text: Y.Text) => void): Promise<void> {
    const document = await this.acquire(name);
    try {
      await document.edit(origin, change);
    } finally {
      this.release(document);
    }
  }

  /** Stores and closes every document; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const entries = [...this.entries.entries()];
      this.entries.clear();
      await Promise.all(
        entries.map(async ([name, entry]) => {
          clearTimeout(entry.unloadTimer);
          const document = await entry.loading.catch(() => undefined);
          await document?.close().catch((error: Error) => this.logger.error(`Error closing document ${name}: ${error.message}`));
        }),
      );
      await Promise.all([...this.unloading.values()]);
    })();
    return this.closing;
  }

  private scheduleUnload(name: string, entry: Entry): void {
    if (this.closing) return;
    clearTimeout(entry.unloadTimer);
    entry.unloadTimer = setTimeout(() => {
      void entry.loading.then(async (document) => {
        if (entry.holders > 0 || this.entries.get(name) !== entry || this.closing) return;
        this.entries.delete(name);
        const unloading = document.close().then(
          () => this.logger.debug(`Unloaded document ${name}`),
          (error: Error) => this.logger.error(`Error closing document ${name}: ${error.message}`),
        );
        this.unloading.set(name, unloading);
        await unloading;
        this.unloading.delete(name);
      });
    }, this.options.unloadAfterMs);
    entry.unloadTimer.unref?.();
  }
}
