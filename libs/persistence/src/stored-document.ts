// One document's files, kept durable as it changes; the live Y.Doc belongs to the core, which
// applies `history` and then attaches, after which this reads the document through its view.
//
// Load: the snapshot, then the log's intact records, handed out as `history`. Then NAME.txt:
// with no history its text becomes the document; with history, a text the store did not write
// (see text-file.ts) is an outside edit; either is handed out as `outsideEdit`, which the core
// applies as an edit (appended like any other, so every restart rebuilds the same Yjs items).
// Nothing is created until the first append: opening a document that is never edited leaves no
// files behind.
//
// Compaction, when the log passes compactBytes or compactRecords (what a reload after kill -9
// would replay), and when the document closes (unload, shutdown: the next load reads one
// snapshot), runs between two commits of the log:
//   1. snapshot := the live document's state     (it holds every update appended so far)
//   2. NAME.snapshot replaced atomically (temp, fsync, rename, fsync dir)
//   3. NAME.log truncated to 0 and fsynced
// A crash before 2 completes leaves the old snapshot and the whole old log; between 2 and 3 the
// new snapshot and the old log, whose updates it already contains (Yjs applies an update twice
// as once); after 3 the new snapshot and an empty log. Each state loads every acknowledged update.

import { readFile } from 'node:fs/promises';
import type { LiveDocumentView, OutsideTextEdit, StoredDocument } from '@collab/collab-core';
import { tempPathFor } from './atomic-replace';
import { documentPaths, type DocumentPaths } from './document-name';
import { CorruptFileError, PersistenceError, StoreClosedError, toStorageError } from './errors';
import type { FsOps } from './fs-ops';
import { RECORD_HEADER_BYTES, scanRecords, type RecordScan } from './record-codec';
import { readSnapshot, writeSnapshot } from './snapshot-file';
import { readTextFile, TextFile } from './text-file';
import { TextMirror } from './text-mirror';
import { UpdateLog } from './update-log';

const COMPACTION_RETRY_MS = 1000;

/** What a document needs from its store. */
export interface DocumentSettings {
  dataDir: string;
  fs: FsOps;
  compactBytes: number;
  compactRecords: number;
  textDebounceMs: number;
  groupCommit: boolean;
  warn: (message: string) => void;
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'read', path);
  }
}

function recordOffset(scan: RecordScan, index: number): number {
  let offset = 0;
  for (let i = 0; i < index; i++) offset += RECORD_HEADER_BYTES + scan.records[i].length;
  return offset;
}

/** A document's files: its history, its update log, its plain-text copy. */
export class DocumentFiles implements StoredDocument {
  private closing: Promise<void> | null = null;
  private compacting = false;
  private nextCompactionAt = 0;
  // Set when an append failed: the document then holds an update the log may not; a snapshot covers it.
  private unstored = false;
  private view: LiveDocumentView | undefined;
  private mirror: TextMirror | undefined;
  /** The log, once there is one (a new document's is created by its first append). */
  private log: UpdateLog | undefined;

  private constructor(
    readonly name: string,
    readonly history: readonly Uint8Array[],
    readonly outsideEdit: OutsideTextEdit | null,
    readonly existed: boolean,
    private readonly paths: DocumentPaths,
    private readonly settings: DocumentSettings,
    private readonly scan: RecordScan,
    private readonly hadSnapshot: boolean,
    /** Checksum of NAME.txt when the store wrote it, null when it is missing or foreign. */
    private readonly textOnDisk: { text: string | null; sha256: string | null; isOurs: boolean },
    private readonly onClosed: () => void,
  ) {}

  /** Reads document `name`'s files (creating none); throws CorruptFileError or a StorageError subclass. */
  static async load(name: string, settings: DocumentSettings, onClosed: () => void): Promise<DocumentFiles> {
    const { fs, warn } = settings;
    const paths = documentPaths(settings.dataDir, name);
    // Leftovers of replacements a crash interrupted; never the file of record.
    await Promise.all([paths.text, paths.meta, paths.snapshot].map((p) => fs.unlink(tempPathFor(p)).catch(() => undefined)));

    const [snapshot, logBytes, onDisk] = await Promise.all([
      readSnapshot(paths.snapshot),
      readOptional(paths.log),
      readTextFile(paths.text, paths.meta),
    ]);
    const scan: RecordScan = logBytes ? scanRecords(logBytes) : { records: [], validBytes: 0, damage: null };
    if (scan.damage?.kind === 'corrupt') throw new CorruptFileError(paths.log, scan.damage.offset, scan.damage.reason, 'log');
    if (scan.damage?.kind === 'torn') {
      warn(
        `${paths.log}: cut off a torn last record at offset ${scan.damage.offset}, ${scan.damage.droppedBytes} bytes dropped (${scan.damage.reason})`,
      );
    }
    const history = snapshot ? [snapshot, ...scan.records] : scan.records;
    const hasHistory = history.length > 0;
    const textIsOurs = onDisk.sha256 !== null && onDisk.ownSha256.includes(onDisk.sha256);
    let outsideEdit: OutsideTextEdit | null = null;
    const source = `${name}.txt`;
    if (!hasHistory && onDisk.text !== null && onDisk.text !== '' && !textIsOurs) {
      outsideEdit = { text: onDisk.text, base: null, source };
    } else if (hasHistory && onDisk.text !== null && !textIsOurs) {
      outsideEdit = { text: onDisk.text, base: null, source };
      warn(`${paths.text} was edited while the server was stopped; its difference is applied as an edit by "file"`);
    }
    const existed = hasHistory || onDisk.text !== null || logBytes !== null;
    const stored = new DocumentFiles(
      name,
      history,
      outsideEdit,
      existed,
      paths,
      settings,
      scan,
      snapshot !== null,
      { text: onDisk.text, sha256: onDisk.sha256, isOurs: textIsOurs },
      onClosed,
    );
    // An existing log is opened now, so a torn tail is cut off before anything else is written.
    if (logBytes !== null) await stored.openLog(scan.validBytes, logBytes.length);
    return stored;
  }

  historyError(index: number, cause: unknown): Error {
    const reason = `record is not a Yjs update: ${(cause as Error)?.message ?? String(cause)}`;
    if (this.hadSnapshot && index === 0) return new CorruptFileError(this.paths.snapshot, 0, reason, 'snapshot');
    return new CorruptFileError(this.paths.log, recordOffset(this.scan, index - (this.hadSnapshot ? 1 : 0)), reason, 'log');
  }

  attach(view: LiveDocumentView): void {
    this.view = view;
    const file = new TextFile(this.settings.fs, this.paths.text, this.paths.meta, this.textOnDisk.isOurs ? this.textOnDisk.sha256 : null);
    this.mirror = new TextMirror(file, () => view.text(), this.settings.textDebounceMs, this.settings.warn);
    // A stale or missing copy of a document with history is written (a crash can come before the
    // debounced write); a new document gets its file with its first edit.
    if (this.history.length > 0 && view.text() !== this.textOnDisk.text) this.mirror.schedule();
    if (this.log) this.maybeCompact(this.log.sizeBytes, this.log.recordCount);
  }

  append(update: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new StoreClosedError(`document ${this.name}`));
    this.log ??= this.createLog();
    return this.log.append(update).catch((err: unknown) => {
      this.unstored = true;
      throw err;
    });
  }

  changed(): void {
    this.mirror?.schedule();
  }

  /** True once close() has been called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** How many fdatasync calls the log's commits made; for benchmarks and tests. */
  get logSyncCount(): number {
    return this.log?.syncCount ?? 0;
  }

  async flushText(): Promise<void> {
    if (!this.mirror) return;
    this.mirror.schedule();
    await this.mirror.flush();
  }

  async compact(): Promise<void> {
    if (this.closing) throw new StoreClosedError(`document ${this.name}`);
    const log = (this.log ??= this.createLog());
    await log.exclusive(() => this.compactNow(log));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      let failure: unknown = null;
      const log = this.log;
      if (log) {
        await log.drain();
        if (this.unstored && this.view) {
          // Updates whose append failed are in the document (and were relayed); keep them if the disk lets us.
          await log
            .exclusive(() => this.compactNow(log))
            .catch((err: unknown) => {
              this.settings.warn(`${this.paths.snapshot}: could not store the updates whose append failed: ${(err as Error).message}`);
            });
        } else if (log.recordCount > 0 && this.view) {
          // The next load reads one snapshot instead of replaying the log. A failure loses nothing: the log stays.
          await log
            .exclusive(() => this.compactNow(log))
            .catch((err: unknown) =>
              this.settings.warn(`compaction of ${this.name} on close failed (the log is kept): ${(err as Error).message}`),
            );
        }
        await log.close().catch((err: unknown) => (failure ??= err));
      }
      // A document that never had files gets none for being opened.
      if (this.mirror && (this.existed || log)) await this.mirror.close().catch((err: unknown) => (failure ??= err));
      this.onClosed();
      if (failure) throw failure;
    })();
    return this.closing;
  }

  /** Opens the existing log (cutting a torn tail off). */
  private async openLog(validBytes: number, fileBytes: number): Promise<void> {
    const { fs, groupCommit } = this.settings;
    this.log = await UpdateLog.open(this.paths.log, validBytes, fileBytes, {
      fs,
      groupCommit,
      onCommitted: (size, records) => this.maybeCompact(size, records),
    });
    this.log.recordCount = this.scan.records.length;
  }

  /** A log created by its first append (its directory entry fsynced before anything in it is acknowledged). */
  private createLog(): UpdateLog {
    const { fs, groupCommit, dataDir } = this.settings;
    return UpdateLog.create(this.paths.log, {
      fs,
      groupCommit,
      dirToSync: dataDir,
      onCommitted: (size, records) => this.maybeCompact(size, records),
    });
  }

  private maybeCompact(logBytes: number, records: number): void {
    if (logBytes < this.settings.compactBytes && records < this.settings.compactRecords) return;
    if (this.compacting || this.closing || !this.view || !this.log) return;
    if (Date.now() < this.nextCompactionAt) return;
    this.compacting = true;
    const log = this.log;
    log
      .exclusive(() => this.compactNow(log))
      .catch((err: unknown) => {
        this.nextCompactionAt = Date.now() + COMPACTION_RETRY_MS;
        if (!(err instanceof StoreClosedError))
          this.settings.warn(`compaction of ${this.name} failed, will retry: ${(err as PersistenceError).message}`);
      })
      .finally(() => (this.compacting = false));
  }

  // Runs inside log.exclusive: no commit is in flight, so the log holds nothing the document lacks.
  private async compactNow(log: UpdateLog): Promise<void> {
    if (!this.view) return;
    const state = this.view.encodeState();
    await writeSnapshot(this.settings.fs, this.paths.snapshot, state);
    this.unstored = false;
    await log.reset();
  }
}
