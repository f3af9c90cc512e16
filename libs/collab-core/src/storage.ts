// What the core needs of durable storage. The core owns each live Y.Doc; a storage keeps its
// history (a snapshot and the updates since), and may read the live document through the view
// it is given once the history is applied, to compact or to mirror the text to a plain file.
// Implementations: files in a data directory (@collab/persistence), memory (tests), Redis.
//
// Contract: the core applies every update to the live document before it appends it, and never
// appends what the document refused; an append that resolved is durable (it survives kill -9).

/** Durable storage of named documents. */
export interface DocumentStorage {
  /** Opens a document's storage (creating nothing until its first append); rejects when it cannot be read. */
  open(name: string): Promise<StoredDocument>;
  /** Closes every document still open and releases the storage (its lock); idempotent. */
  close(): Promise<void>;
}

/** The live document, as a storage may read it. */
export interface LiveDocumentView {
  /** Y.encodeStateAsUpdate of the live document: everything appended so far and perhaps more. */
  encodeState(): Uint8Array;
  /** Y.encodeSnapshot of the live document now (its state vector and delete set): a base for merging an outside edit of the text as it is now. */
  encodeSnapshot(): Uint8Array;
  /** The document's text now. */
  text(): string;
  /**
   * Applies an update this storage already holds durably (written by another server sharing it):
   * the server's clients get it, and it is not appended again. `origin` names it in the log.
   */
  applyStoredUpdate(update: Uint8Array, origin: string): void;
  /**
   * Applies presence (an awareness update) another server relayed for its clients: this server's
   * clients get it; `source` names that server, and holds those states until it removes them or
   * dropRemotePresence(source). An update that cannot be read is ignored.
   */
  applyRemotePresence(source: string, update: Uint8Array): void;
  /** Removes every presence state `source` relayed (that server is gone); this server's clients are told. */
  dropRemotePresence(source: string): void;
  /** The presence of this server's own clients as one awareness update; null when none is present. */
  localPresence(): Uint8Array | null;
  /**
   * Merges a plain-text copy edited outside the server as an edit by `file`: stored, relayed,
   * logged; resolves once stored, saying how it merged. Three-way when the edit carries its base
   * (text and state): typing that came after the base survives, and so does the outside edit.
   * Rejects with UpdateRefusedError ('too-large'), the document untouched, when the result
   * would pass maxDocumentChars.
   */
  mergeOutsideText(edit: OutsideTextEdit): Promise<OutsideMergeResult>;
}

/** A plain-text copy of the document that was changed outside the server (by hand, by a tool, while it was stopped). */
export interface OutsideTextEdit {
  /** The text found. */
  readonly text: string;
  /** The text the server last wrote there, when the storage knows it; null otherwise. */
  readonly base: string | null;
  /**
   * The document as it was when the server wrote `base`, when the storage knows it: with it the
   * merge is three-way. Without it the file is diffed against the live text, which undoes typing
   * the file never saw. A snapshot of the live document then (encodeSnapshot), ...
   */
  readonly baseSnapshot?: Uint8Array | null;
  /** ... or Yjs updates that rebuild it (applied in order). */
  readonly baseState?: readonly Uint8Array[] | null;
  /** Where it was found, for the log (`temp.txt`). */
  readonly source: string;
}

/** How an outside edit was merged. */
export interface OutsideMergeResult {
  /** `unchanged`: nothing to merge; `three-way`: against its base; `two-way`: against the live text (`why` says why). */
  readonly merged: 'unchanged' | 'three-way' | 'two-way';
  readonly why?: string;
  /**
   * A snapshot (as encodeSnapshot makes them) of the live document's items that make the file's
   * text: the base for the next outside edit of the file as it now is. Absent when the file
   * held its base (nothing changed), or when the document cannot show the file's text that way.
   */
  readonly fileSnapshot?: Uint8Array;
}

/** One document's storage. */
export interface StoredDocument {
  readonly name: string;
  /** Yjs updates that rebuild the document when applied in order; empty for a new document. */
  readonly history: readonly Uint8Array[];
  /** A text edited outside the server, to be merged as an edit once the history is applied; null when none. */
  readonly outsideEdit: OutsideTextEdit | null;
  /** Whether anything of this document was stored before (history or a plain-text file). */
  readonly existed: boolean;
  /** Describes why history entry `index` could not be applied (naming the file and offset, say); the core throws it. */
  historyError(index: number, cause: unknown): Error;
  /**
   * Called once, after the history is applied: from then on the storage may read the live
   * document (and merge outside edits into it). The document is handed out once a returned
   * promise settles.
   */
  attach(view: LiveDocumentView): void | Promise<void>;
  /** Stores an update already applied to the live document; resolves once it is durable. */
  append(update: Uint8Array): Promise<void>;
  /**
   * Optional: the presence of this server's clients changed (`update`, an awareness update of the
   * ids that changed: their states, or their removal). A storage shared by several servers passes
   * it to the others, which apply it with applyRemotePresence.
   */
  presenceChanged?(update: Uint8Array): void;
  /** The document changed: the plain-text copy (if any) follows shortly. */
  changed(): void;
  /** Writes the plain-text copy now if it is behind; resolves when it holds the current text. */
  flushText(): Promise<void>;
  /** Folds the history into one snapshot of the live document now. */
  compact(): Promise<void>;
  /** Waits for pending appends, stores what must be, writes the plain-text copy exactly; idempotent. */
  close(): Promise<void>;
}
