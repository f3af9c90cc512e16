// Opens a stored document the way the server does: the core's SharedDocument (which owns the
// Y.Doc and applies the history) over the store's files. Tests then edit `doc` and append the
// update themselves, as the storage contract says: apply first, then append.
import type * as Y from 'yjs';
import { SharedDocument } from '@collab/collab-core';
import type { DocumentStore } from '../src/document-store';
import type { DocumentFiles } from '../src/stored-document';

/** A document open on a store, with its files. */
export interface LiveDocument {
  readonly doc: Y.Doc;
  readonly files: DocumentFiles;
  readonly shared: SharedDocument;
  /** Whether NAME.txt existed with no history, and its text became the document. */
  readonly loadedFromText: boolean;
  append(update: Uint8Array): Promise<void>;
  flushText(): Promise<void>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

const LIMITS = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxDocumentChars: 1024 * 1024 * 1024,
  maxDocumentItems: 1024 * 1024 * 1024,
  presence: { maxStateBytes: 16 * 1024, maxDepth: 16, maxIdsPerPeer: 4 },
};

/** Loads document `name` from `store` as the server would. */
export async function openLive(store: DocumentStore, name: string): Promise<LiveDocument> {
  const files = await store.open(name);
  const { loadedFromText } = files;
  const shared = await SharedDocument.load(files, LIMITS);
  return {
    doc: shared.doc,
    files,
    shared,
    loadedFromText,
    append: (update) => {
      const appended = files.append(update);
      files.changed(); // as the core does after each change it applies
      return appended;
    },
    flushText: () => files.flushText(),
    compact: () => files.compact(),
    close: () => shared.close(),
  };
}
