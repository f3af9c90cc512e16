// One document's files, kept durable as it changes; the live Y.Doc belongs to the core, which
// applies `history` and then attaches, after which this reads the document through its view.
//
// Load: the snapshot, then the log's intact records, handed out as `history`. Then NAME.txt:
// with no history its text becomes the document; with history, a text the store did not write
// (see text-file.ts) was edited while the server was stopped, and is merged three-way against
// the text the store last wrote (its base: the document as it was then, rebuilt from the
// snapshot and the log up to where NAME.meta says, or from NAME.base). Either is merged through
// the live document's view once attached (an edit by `file`, appended like any other, so every
// restart rebuilds the same Yjs items), before the document is handed out; from then on
// NAME.txt is followed both ways while the document is open (see live-text-file.ts).
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
// Before 1, when NAME.txt's base is older than the live document, the base is written whole to
// NAME.base and NAME.meta pointed at it: the log it was found in is about to be emptied.

import { readFile, unlink } from 'node:fs/promises';
import { diffText, snapshotOfState, type LiveDocumentView, type StoredDocument } from '@collab/collab-core';
import { tempPathFor } from './atomic-replace';
import { BaseTracker, decodeBaseFile, encodeBaseFile, type TextBase } from './base-tracker';
import type { DirectoryWatcher } from './directory-watcher';
import { documentPaths, type DocumentPaths } from './document-name';
import { CorruptFileError, PersistenceError, StoreClosedError, toStorageError } from './errors';
import type { FsOps } from './fs-ops';
import { LiveTextFile } from './live-text-file';
import { RECORD_HEADER_BYTES, scanRecords, type RecordScan } from './record-codec';
import { readSnapshot, writeSnapshot } from './snapshot-file';
import { readTextFile, sha256Hex, TextFile, type BaseRef, type FileRead, type FileStamp, type TextFileContents } from './text-file';
import { UpdateLog, type UpdateLogOptions } from './update-log';

const COMPACTION_RETRY_MS = 1000;

/** What a document needs from its store. */
export interface DocumentSettings {
  dataDir: string;
  fs: FsOps;
  compactBytes: number;
  compactRecords: number;
  textDebounceMs: number;
  groupCommit: boolean;
  /** Under load, log commits start at most this often; under heavy load, at most every busyCommitIntervalMs. */
  commitIntervalMs: number;
  busyCommitIntervalMs: number;
  warn: (message: string) => void;
  /** The data directory's watcher, when outside edits of NAME.txt are followed while documents are open. */
  watcher: () => DirectoryWatcher | null;
  /** How long NAME.txt must hold still before an outside edit of it is read. */
  fileSettleMs: number;
  /** Longest text a document may hold: a longer NAME.txt is refused. */
  maxTextChars: number;
}

/** What was found in NAME.txt at load that the store did not write. */
interface FoundText {
  read: FileRead;
  base: TextBase | null;
}

/** The document's bytes on disk that a BaseRef may point into. */
interface StoredBytes {
  snapshot: Uint8Array | null;
  snapshotSha: string | null;
  scan: RecordScan;
  baseFile: { bytes: Uint8Array; sha: string } | null;
}

/** The updates that rebuild the document as `ref` says it was; null when they are not on disk any more. */
function rebuildState(ref: Exclude<BaseRef, { baseSnapshot: string }>, stored: StoredBytes): Uint8Array[] | null {
  if ('baseFile' in ref) return stored.baseFile && stored.baseFile.sha === ref.baseFile ? [stored.baseFile.bytes] : null;
  if (ref.snapshot !== stored.snapshotSha) return null;
  const records: Uint8Array[] = [];
  let end = 0;
  for (const record of stored.scan.records) {
    end += RECORD_HEADER_BYTES + record.length;
    if (end > ref.logBytes) break;
    records.push(record);
  }
  return stored.snapshot ? [stored.snapshot, ...records] : records;
}

/** The base `ref` finds on disk; null when it is not there any more, or cannot be read. */
function baseAt(ref: BaseRef, stored: StoredBytes): TextBase | null {
  try {
    if ('baseSnapshot' in ref) {
      return stored.baseFile && stored.baseFile.sha === ref.baseSnapshot ? decodeBaseFile(stored.baseFile.bytes) : null;
    }
    const state = rebuildState(ref, stored);
    return state ? snapshotOfState(state) : null;
  } catch {
    return null;
  }
}

/** The base of text `sha` as NAME.meta records it, checked to be exactly that text; null otherwise. */
function baseOf(sha: string, ref: BaseRef | null, stored: StoredBytes): TextBase | null {
  const base = ref ? baseAt(ref, stored) : null;
  return base && sha256Hex(Buffer.from(base.text, 'utf8')) === sha ? base : null;
}

/**
 * The base an outside text found at load is merged against: the recorded base of a text the
 * store wrote. After a crash part way through a write NAME.meta lists two; the one the file
 * differs from least is the one it was edited from.
 */
function pickBase(found: Buffer, contents: TextFileContents, stored: StoredBytes): TextBase | null {
  const bases = [...contents.own].map(([sha, ref]) => baseOf(sha, ref, stored)).filter((b): b is TextBase => b !== null);
  if (bases.length <= 1) return bases[0] ?? null;
  const text = found.toString('utf8');
  const cost = (b: TextBase) => diffText(b.text, text).reduce((n, c) => n + c.deleteCount + c.insert.length, 0);
  return bases.reduce((best, b) => (cost(b) < cost(best) ? b : best));
}

async function readBaseFile(path: string, warn: (message: string) => void): Promise<StoredBytes['baseFile']> {
  try {
    const bytes = await readSnapshot(path);
    return bytes ? { bytes, sha: sha256Hex(bytes) } : null;
  } catch (error) {
    // Only a base for merging an outside edit: without it the edit is merged against the live text.
    warn(`${path} cannot be read, and is not used (${(error as Error).message})`);
    return null;
  }
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
  private live: LiveTextFile | undefined;
  private base: BaseTracker | undefined;
  /** The log, once there is one (a new document's is created by its first append). */
  private log: UpdateLog | undefined;
  /** The log's promise for the last append, and what append() made of it (appends that share a commit share both). */
  private lastLogAppend: Promise<void> | undefined;
  private lastAppended: Promise<void> = Promise.resolve();
  /** SHA-256 of the snapshot's payload now (null: none); NAME.meta names the snapshot a base is found in by it. */
  private snapshotSha: string | null;
  /** NAME.base holds a base NAME.meta may point at (until the next write of NAME.txt). */
  private baseFileInUse = false;
  /** The store merges outside edits itself (see attach), so the core never gets one at load. */
  readonly outsideEdit = null;

  private constructor(
    readonly name: string,
    readonly history: readonly Uint8Array[],
    readonly existed: boolean,
    /** NAME.txt had no history behind it, and its text becomes the document. */
    readonly loadedFromText: boolean,
    private readonly paths: DocumentPaths,
    private readonly settings: DocumentSettings,
    private readonly scan: RecordScan,
    private readonly hadSnapshot: boolean,
    stored: StoredBytes,
    /** NAME.txt and NAME.meta as found. */
    private readonly contents: TextFileContents,
    /** An outside edit of NAME.txt found at load, merged once attached. */
    private readonly found: FoundText | null,
    /** NAME.txt is too large to be a document: refused unread. */
    private readonly tooLarge: FileStamp | null,
    private readonly onClosed: () => void,
  ) {
    this.snapshotSha = stored.snapshotSha;
    this.baseFileInUse = stored.baseFile !== null;
    this.storedAtLoad = stored;
  }

  /** What was on disk at load, for rebuilding the base of a stale NAME.txt at attach; dropped then. */
  private storedAtLoad: StoredBytes | null;

  /** Reads document `name`'s files (creating none); throws CorruptFileError or a StorageError subclass. */
  static async load(name: string, settings: DocumentSettings, onClosed: () => void): Promise<DocumentFiles> {
    const { fs, warn } = settings;
    const paths = documentPaths(settings.dataDir, name);
    // Leftovers of replacements a crash interrupted; never the file of record.
    await Promise.all([paths.text, paths.meta, paths.snapshot, paths.base].map((p) => fs.unlink(tempPathFor(p)).catch(() => undefined)));

    const [snapshot, logBytes, onDisk, baseFile] = await Promise.all([
      readSnapshot(paths.snapshot),
      readOptional(paths.log),
      readTextFile(paths.text, paths.meta, 3 * settings.maxTextChars),
      readBaseFile(paths.base, warn),
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
    const stored: StoredBytes = { snapshot, snapshotSha: snapshot ? sha256Hex(snapshot) : null, scan, baseFile };
    const { read } = onDisk;
    const textIsOurs = onDisk.sha256 !== null && onDisk.own.has(onDisk.sha256);
    let found: FoundText | null = null;
    let loadedFromText = false;
    if (read && !textIsOurs && !hasHistory && read.bytes.length > 0) {
      found = { read, base: null };
      loadedFromText = true;
    } else if (read && !textIsOurs && hasHistory) {
      found = { read, base: pickBase(read.bytes, onDisk, stored) };
      warn(
        `${paths.text} was edited while the server was stopped; its difference ${found.base ? 'from the text the server last wrote there ' : ''}is merged as an edit by "file"`,
      );
    }
    const existed = hasHistory || read !== null || onDisk.tooLarge !== null || logBytes !== null;
    const files = new DocumentFiles(
      name,
      history,
      existed,
      loadedFromText,
      paths,
      settings,
      scan,
      snapshot !== null,
      stored,
      onDisk,
      found,
      onDisk.tooLarge,
      onClosed,
    );
    // An existing log is opened now, so a torn tail is cut off before anything else is written.
    if (logBytes !== null) await files.openLog(scan.validBytes, logBytes.length);
    return files;
  }

  historyError(index: number, cause: unknown): Error {
    const reason = `record is not a Yjs update: ${(cause as Error)?.message ?? String(cause)}`;
    if (this.hadSnapshot && index === 0) return new CorruptFileError(this.paths.snapshot, 0, reason, 'snapshot');
    return new CorruptFileError(this.paths.log, recordOffset(this.scan, index - (this.hadSnapshot ? 1 : 0)), reason, 'log');
  }

  async attach(view: LiveDocumentView): Promise<void> {
    this.view = view;
    const { contents, settings, paths } = this;
    const stored = this.storedAtLoad!;
    this.storedAtLoad = null;
    const base = (this.base = new BaseTracker());
    const own =
      contents.read && contents.sha256 !== null && contents.own.has(contents.sha256) ? contents.read.bytes.toString('utf8') : null;
    if (own !== null && own === view.text()) {
      base.reset({ text: own, snapshot: view.encodeSnapshot() }, true);
    } else if (own !== null) {
      // A copy a crash left behind the log: its recorded base still serves until it is rewritten.
      base.reset(baseOf(contents.sha256!, contents.own.get(contents.sha256!) ?? null, stored));
    }
    const disk = contents.read
      ? { sha: contents.sha256, stamp: contents.read.stamp }
      : contents.tooLarge
        ? { sha: null, stamp: contents.tooLarge }
        : null;
    const file = new TextFile(settings.fs, paths.text, paths.meta, contents.own, disk);
    const live = (this.live = new LiveTextFile(
      {
        source: `${this.name}.txt`,
        textPath: paths.text,
        debounceMs: settings.textDebounceMs,
        settleMs: settings.fileSettleMs,
        maxChars: settings.maxTextChars,
        warn: settings.warn,
      },
      {
        view,
        file,
        base,
        ref: () => this.currentRef(),
        written: () => this.textWritten(),
        rebuild: (ref) => this.rebuildFromDisk(ref),
      },
    ));
    if (this.tooLarge) {
      live.refuseFound(
        this.tooLarge,
        `is ${this.tooLarge.size} bytes, longer than a document may be (${settings.maxTextChars} characters)`,
      );
    } else if (this.found) {
      await live.mergeFound(this.found.read, this.found.base, this.loadedFromText);
    } else if (this.history.length > 0 && view.text() !== own) {
      // A stale or missing copy of a document with history is written (a crash can come before
      // the debounced write, or the first rename); a new document gets its file with its first edit.
      live.changed();
    }
    const watcher = settings.watcher();
    if (watcher) live.watch(watcher);
    if (this.log) this.maybeCompact(this.log.sizeBytes, this.log.recordCount);
  }

  append(update: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new StoreClosedError(`document ${this.name}`));
    this.log ??= this.createLog();
    const appended = this.log.append(update);
    this.base?.appended();
    if (appended !== this.lastLogAppend) {
      this.lastLogAppend = appended;
      this.lastAppended = appended.catch(this.appendFailed);
    }
    return this.lastAppended;
  }

  private readonly appendFailed = (err: unknown): never => {
    this.unstored = true;
    throw err;
  };

  changed(): void {
    this.live?.changed();
  }

  /** True once close() has been called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** How many fdatasync calls the log's commits made; for benchmarks and tests. */
  get logSyncCount(): number {
    return this.log?.syncCount ?? 0;
  }

  /** Whether NAME.txt holds an outside edit that was refused (and is left alone). */
  get textRefused(): boolean {
    return this.live?.refused ?? false;
  }

  async flushText(): Promise<void> {
    await this.live?.flush();
  }

  async compact(): Promise<void> {
    if (this.closing) throw new StoreClosedError(`document ${this.name}`);
    const log = (this.log ??= this.createLog());
    await this.betweenFileSteps(() => log.exclusive(() => this.compactNow(log)));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      let failure: unknown = null;
      // No file work from here on but the last write of NAME.txt.
      await this.live?.stop();
      const log = this.log;
      await log?.drain();
      // The text first: the compaction below then finds NAME.txt's base to be the document itself.
      // A document that never had files gets none for being opened.
      if (this.live && (this.existed || log)) await this.live.close().catch((err: unknown) => (failure ??= err));
      if (log) {
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
      this.base?.destroy();
      this.onClosed();
      if (failure) throw failure;
    })();
    return this.closing;
  }

  /** Opens the existing log (cutting a torn tail off); for load only. */
  async openLog(validBytes: number, fileBytes: number): Promise<void> {
    this.log = await UpdateLog.open(this.paths.log, validBytes, fileBytes, this.logOptions());
    this.log.recordCount = this.scan.records.length;
  }

  /** A log created by its first append (its directory entry fsynced before anything in it is acknowledged). */
  private createLog(): UpdateLog {
    return UpdateLog.create(this.paths.log, { ...this.logOptions(), dirToSync: this.settings.dataDir });
  }

  /** How this document's log commits, and what it does after each commit. */
  private logOptions(): UpdateLogOptions {
    const { fs, groupCommit, commitIntervalMs, busyCommitIntervalMs } = this.settings;
    return {
      fs,
      groupCommit,
      commitIntervalMs,
      busyCommitIntervalMs,
      onCommitted: (size, records) => this.maybeCompact(size, records),
    };
  }

  private maybeCompact(logBytes: number, records: number): void {
    if (logBytes < this.settings.compactBytes && records < this.settings.compactRecords) return;
    if (this.compacting || this.closing || !this.view || !this.log) return;
    if (Date.now() < this.nextCompactionAt) return;
    this.compacting = true;
    const log = this.log;
    this.betweenFileSteps(() => log.exclusive(() => this.compactNow(log)))
      .catch((err: unknown) => {
        this.nextCompactionAt = Date.now() + COMPACTION_RETRY_MS;
        if (!(err instanceof StoreClosedError))
          this.settings.warn(`compaction of ${this.name} failed, will retry: ${(err as PersistenceError).message}`);
      })
      .finally(() => (this.compacting = false));
  }

  /** Runs `task` when no step of NAME.txt's work is under way (a compaction moves the base that work records). */
  private betweenFileSteps<T>(task: () => Promise<T>): Promise<T> {
    return this.live ? this.live.betweenSteps(task) : task();
  }

  /** Where the document now is found again on disk: the snapshot, then the log up to its last record appended. */
  private currentRef(): BaseRef {
    return { snapshot: this.snapshotSha, logBytes: this.log?.issuedBytes ?? 0 };
  }

  /** The base `ref` finds on disk now (read afresh); null when it is not there any more. */
  private async rebuildFromDisk(ref: BaseRef): Promise<TextBase | null> {
    if (!('logBytes' in ref)) return null;
    try {
      const [snapshot, logBytes] = await Promise.all([readSnapshot(this.paths.snapshot), readOptional(this.paths.log)]);
      const stored: StoredBytes = {
        snapshot,
        snapshotSha: snapshot ? sha256Hex(snapshot) : null,
        scan: logBytes ? scanRecords(logBytes.subarray(0, ref.logBytes)) : { records: [], validBytes: 0, damage: null },
        baseFile: null,
      };
      return baseAt(ref, stored);
    } catch {
      return null;
    }
  }

  /** NAME.txt was written: NAME.meta no longer points at NAME.base. */
  private textWritten(): void {
    if (!this.baseFileInUse) return;
    this.baseFileInUse = false;
    unlink(this.paths.base).catch(() => undefined);
  }

  // Runs inside log.exclusive, between NAME.txt's steps: no commit is in flight, so the log holds
  // nothing the document lacks, and the base of NAME.txt does not move.
  private async compactNow(log: UpdateLog): Promise<void> {
    if (!this.view) return;
    const state = this.view.encodeState();
    const stateSha = sha256Hex(state);
    const base = this.base;
    const baseText = base?.text ?? null;
    const baseSha = baseText === null ? null : sha256Hex(Buffer.from(baseText, 'utf8'));
    const file = this.live?.file;
    const upToDate = base?.upToDate ?? false;
    if (file && base && baseText !== null && !upToDate) {
      // The log the base is found in is about to be emptied: keep the base (its text and snapshot).
      const payload = encodeBaseFile(base.current()!);
      await writeSnapshot(this.settings.fs, this.paths.base, payload);
      this.baseFileInUse = true;
      await file.rebase(baseSha, { baseSnapshot: sha256Hex(payload) });
    }
    await writeSnapshot(this.settings.fs, this.paths.snapshot, state);
    this.snapshotSha = stateSha;
    this.live?.forgetOlderTexts();
    this.unstored = false;
    // The base is the live document: it is the new snapshot alone. (A crash before this line
    // leaves NAME.meta naming the old snapshot, and an outside edit made while stopped then
    // merges against the document's text as it is.)
    if (file && upToDate) await file.rebase(baseSha, { snapshot: stateSha, logBytes: 0 });
    await log.reset();
  }
}
