// The entry point: one DocumentStore per data directory, holding its lock, handing out each
// document once (concurrent opens of one name share the load).

import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DocumentStorage } from '@collab/collab-core';
import { DirectoryWatcher } from './directory-watcher';
import { DirLock } from './dir-lock';
import { validateDocumentName } from './document-name';
import { InvalidOptionError, StorageError, StoreClosedError, toStorageError } from './errors';
import { nodeFsOps, type FsOps } from './fs-ops';
import { DocumentFiles, type DocumentSettings } from './stored-document';

/** Default log size past which a document is compacted into its snapshot: 4 MiB. */
export const DEFAULT_COMPACT_BYTES = 4 * 1024 * 1024;

/**
 * Default number of log records past which a document is compacted: replaying a log record by
 * record is what makes a reload slow (20,000 small updates: about 0.1 s), whatever its size.
 */
export const DEFAULT_COMPACT_RECORDS = 20_000;

/** Default delay between a change and the text file write that shows it. */
export const DEFAULT_TEXT_DEBOUNCE_MS = 200;
/** Under load, log commits at most this often by default (see StoreOptions.commitIntervalMs). */
export const DEFAULT_COMMIT_INTERVAL_MS = 10;
/** Under heavy load, log commits at most this often by default (see StoreOptions.busyCommitIntervalMs). */
export const DEFAULT_BUSY_COMMIT_INTERVAL_MS = 40;

/** Default time NAME.txt must hold still before an outside edit of it is read. */
export const DEFAULT_FILE_SETTLE_MS = 50;

/** Options of DocumentStore.open. */
export interface StoreOptions {
  /** Directory holding NAME.txt, NAME.log, NAME.snapshot, NAME.meta; created if missing, as long as its parent exists. */
  dataDir: string;
  /** Log size in bytes past which the document becomes the new snapshot (default 4 MiB). */
  compactBytes?: number;
  /** Log records past which the document becomes the new snapshot (default 20,000). */
  compactRecords?: number;
  /** Longest wait between a change and the text file write (default 200 ms). */
  textDebounceMs?: number;
  /** Receives warnings: torn log tails cut off, hand edits applied, failed background writes. */
  onWarning?: (message: string) => void;
  /** The write-side file system calls; tests inject faults here (default node:fs/promises). */
  fs?: FsOps;
  /** false fsyncs each record on its own, for benchmarks only (default true: group commit). */
  groupCommit?: boolean;
  /**
   * Under load, a document's log commits (write + fdatasync) start at most this often, so that
   * more appends share one fdatasync (default 10 ms; 0: each as soon as the last ended). A lone
   * append after a pause is committed at once.
   */
  commitIntervalMs?: number;
  /**
   * Under heavy load (a commit carried 8 records or more: 800 edits a second into one document at
   * 10 ms), a commit waits for about 100 records, up to this long (default 40 ms): each fdatasync
   * and each client's ACK then covers more edits, where they cost the most CPU; a few typists'
   * edits are still acknowledged within commitIntervalMs (see UpdateLogOptions.busyCommitIntervalMs).
   */
  busyCommitIntervalMs?: number;
  /**
   * Follow NAME.txt while its document is open: an outside write to it is merged into the
   * document (default false; an edit made while the document was closed is merged at its next
   * load either way).
   */
  watchFiles?: boolean;
  /** How long NAME.txt must hold still before an outside edit of it is read (default 50 ms). */
  fileSettleMs?: number;
  /** Longest text a document may hold: a longer NAME.txt is refused with a warning, and left as it is (default: no limit). */
  maxTextChars?: number;
  /**
   * Lock each document while it is open (`.NAME.lock`) instead of the whole directory: several
   * servers may then share the directory, each writing only the documents it holds (with Redis,
   * the lease holder's). open() rejects with LockedError while another live process holds the
   * document (default false: one server per directory).
   */
  lockEach?: boolean;
}

function checkOptions(options: StoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options must be an object');
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new InvalidOptionError('dataDir must be a non-empty path');
  const { compactBytes, compactRecords, textDebounceMs, commitIntervalMs, busyCommitIntervalMs } = options;
  if (compactBytes !== undefined && !(typeof compactBytes === 'number' && compactBytes > 0)) {
    throw new InvalidOptionError(`compactBytes must be a positive number of bytes (got ${String(compactBytes)})`);
  }
  if (compactRecords !== undefined && !(typeof compactRecords === 'number' && compactRecords > 0)) {
    throw new InvalidOptionError(`compactRecords must be a positive number of records (got ${String(compactRecords)})`);
  }
  for (const [name, value] of Object.entries({ textDebounceMs, commitIntervalMs, busyCommitIntervalMs })) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new InvalidOptionError(`${name} must be a finite number of milliseconds, 0 or more (got ${String(value)})`);
    }
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function')
    throw new InvalidOptionError('onWarning must be a function');
  if (options.groupCommit !== undefined && typeof options.groupCommit !== 'boolean')
    throw new InvalidOptionError('groupCommit must be a boolean');
  if (options.watchFiles !== undefined && typeof options.watchFiles !== 'boolean')
    throw new InvalidOptionError('watchFiles must be a boolean');
  if (options.lockEach !== undefined && typeof options.lockEach !== 'boolean') throw new InvalidOptionError('lockEach must be a boolean');
  const { fileSettleMs, maxTextChars } = options;
  if (fileSettleMs !== undefined && !(typeof fileSettleMs === 'number' && Number.isFinite(fileSettleMs) && fileSettleMs >= 0)) {
    throw new InvalidOptionError(`fileSettleMs must be a finite number of milliseconds, 0 or more (got ${String(fileSettleMs)})`);
  }
  if (maxTextChars !== undefined && !(typeof maxTextChars === 'number' && maxTextChars >= 1)) {
    throw new InvalidOptionError(`maxTextChars must be a number of characters, 1 or more (got ${String(maxTextChars)})`);
  }
}

/** Durable storage for the named documents of one data directory; takes the directory's lock. */
export class DocumentStore implements DocumentStorage {
  private readonly documents = new Map<string, Promise<DocumentFiles>>();
  private closing: Promise<void> | null = null;
  private watcher: DirectoryWatcher | null = null;

  private constructor(
    /** Absolute, symlink-free path of the data directory. */
    readonly dataDir: string,
    /** The directory's lock; null when each document is locked while open (lockEach). */
    private readonly lock: DirLock | null,
    private readonly settings: DocumentSettings,
  ) {}

  /** Opens the store; throws LockedError (COLLAB_ERR_LOCKED) when another live process holds the directory. */
  static async open(options: StoreOptions): Promise<DocumentStore> {
    checkOptions(options);
    let dataDir = resolve(options.dataDir);
    // A mistyped path must not silently become a new tree of directories: only the last level is made.
    const parent = dirname(dataDir);
    if (
      !(await stat(parent).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    ) {
      throw new StorageError(
        'ENOENT',
        `the data directory ${dataDir} cannot be created: its parent ${parent} does not exist (create it first)`,
      );
    }
    try {
      await mkdir(dataDir, { recursive: false }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      dataDir = await realpath(dataDir);
    } catch (err) {
      throw toStorageError(err, 'create the data directory', dataDir);
    }
    const lock = options.lockEach ? null : await DirLock.acquire(dataDir);
    const onWarning = options.onWarning ?? ((message: string) => process.emitWarning(message, 'CollabStorageWarning'));
    const settings: DocumentSettings = {
      dataDir,
      fs: options.fs ?? nodeFsOps,
      compactBytes: options.compactBytes ?? DEFAULT_COMPACT_BYTES,
      compactRecords: options.compactRecords ?? DEFAULT_COMPACT_RECORDS,
      textDebounceMs: options.textDebounceMs ?? DEFAULT_TEXT_DEBOUNCE_MS,
      groupCommit: options.groupCommit ?? true,
      commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      busyCommitIntervalMs: options.busyCommitIntervalMs ?? DEFAULT_BUSY_COMMIT_INTERVAL_MS,
      warn: onWarning,
      watcher: () => null,
      fileSettleMs: options.fileSettleMs ?? DEFAULT_FILE_SETTLE_MS,
      maxTextChars: options.maxTextChars ?? Infinity,
    };
    const store = new DocumentStore(dataDir, lock, settings);
    // One watch for the whole directory, made when the first document asks for it.
    if (options.watchFiles) settings.watcher = () => (store.closing ? null : (store.watcher ??= new DirectoryWatcher(dataDir, onWarning)));
    return store;
  }

  /** Reads document `name`'s files (creating none until its first append); the same object while it stays open. */
  open(name: string): Promise<DocumentFiles> {
    if (this.closing) return Promise.reject(new StoreClosedError(`document store ${this.dataDir}`));
    try {
      validateDocumentName(name);
    } catch (err) {
      return Promise.reject(err);
    }
    const open = this.documents.get(name);
    // A document being closed is loaded afresh once its close has written everything.
    if (open)
      return open.then((d) =>
        d.isClosing
          ? d
              .close()
              .catch(() => undefined)
              .then(() => this.open(name))
          : d,
      );
    const loading: Promise<DocumentFiles> = this.load(name, () => {
      if (this.documents.get(name) === loading) this.documents.delete(name);
    });
    loading.catch(() => {
      if (this.documents.get(name) === loading) this.documents.delete(name);
    });
    this.documents.set(name, loading);
    return loading;
  }

  /** Loads a document's files, under its own lock when the directory is locked a document at a time. */
  private async load(name: string, onClosed: () => void): Promise<DocumentFiles> {
    const lock = this.lock ? null : await DirLock.acquire(this.dataDir, name);
    try {
      return await DocumentFiles.load(name, this.settings, () => {
        onClosed();
        void lock?.release();
      });
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }

  /** Closes every document (each writes its text file), then releases the lock; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const results = await Promise.allSettled(
        [...this.documents.values()].map((loading) =>
          loading.then(
            (d) => d.close(),
            () => undefined,
          ),
        ),
      );
      this.watcher?.close();
      await this.lock?.release();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })();
    return this.closing;
  }
}
