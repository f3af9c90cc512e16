// One document loaded from its files, kept durable as it changes.
//
// Load: snapshot, then the log's intact records, applied in one Yjs transaction (one by one, not
// Y.mergeUpdates, which is far slower on long logs). Then NAME.txt: with no history its text
// becomes the document; with history, a text the store did not write (see text-file.ts) is a
// hand edit and the difference is applied. Either edit is appended to the log before the
// document is handed out, so every restart rebuilds the very same Yjs items.
//
// Compaction, when the log passes compactBytes, runs between two commits of the log:
//   1. snapshot := Y.encodeStateAsUpdate(doc)      (doc holds every update appended so far)
//   2. NAME.snapshot replaced atomically (temp, fsync, rename, fsync dir)
//   3. NAME.log truncated to 0 and fsynced
// A crash before 2 completes leaves the old snapshot and the whole old log; between 2 and 3 the
// new snapshot and the old log, whose updates it already contains (Yjs applies an update twice
// as once); after 3 the new snapshot and an empty log. Each state loads every acknowledged update.

import { readFile } from 'node:fs/promises';
import * as Y from 'yjs';
import { tempPathFor } from './atomic-replace';
import { documentPaths, type DocumentPaths } from './document-name';
import { CorruptFileError, PersistenceError, StoreClosedError, toStorageError } from './errors';
import type { FsOps } from './fs-ops';
import { RECORD_HEADER_BYTES, scanRecords, type RecordScan } from './record-codec';
import { readSnapshot, writeSnapshot } from './snapshot-file';
import { diffText } from './text-diff';
import { readTextFile, TextFile } from './text-file';
import { TextMirror } from './text-mirror';
import { UpdateLog } from './update-log';

/** Name of the Y.Text that holds a document's text. */
export const TEXT_NAME = 'content';

const COMPACTION_RETRY_MS = 1000;

/**
 * A document open in a DocumentStore. Contract: apply each update to `doc` first, then
 * `append` it; compaction snapshots `doc`, so an update appended but never applied would be lost.
 */
export interface StoredDocument {
  readonly name: string;
  /** The live document; Y.Text `content` holds the text. */
  readonly doc: Y.Doc;
  /** True when NAME.txt existed with no log or snapshot, and its text became the document. */
  readonly loadedFromText: boolean;
  /** Stores an update already applied to `doc`; resolves once it is fsynced, rejects with a StorageError subclass. */
  append(update: Uint8Array): Promise<void>;
  /** Waits for pending appends, writes NAME.txt exactly, closes the files; idempotent. */
  close(): Promise<void>;
}

/** What a document needs from its store. */
export interface DocumentSettings {
  dataDir: string;
  fs: FsOps;
  compactBytes: number;
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

function applyHistory(doc: Y.Doc, paths: DocumentPaths, snapshot: Uint8Array | null, scan: RecordScan): void {
  let index = -1;
  try {
    doc.transact(() => {
      if (snapshot) Y.applyUpdate(doc, snapshot);
      for (index = 0; index < scan.records.length; index++) Y.applyUpdate(doc, scan.records[index]);
    });
  } catch (err) {
    const where = index < 0 ? { file: paths.snapshot, offset: 0 } : { file: paths.log, offset: recordOffset(scan, index) };
    throw new CorruptFileError(where.file, where.offset, `record is not a Yjs update: ${(err as Error).message}`);
  }
}

// The update a local change makes, captured so it can be appended like any other.
function captureUpdate(doc: Y.Doc, change: () => void): Uint8Array | null {
  let captured: Uint8Array | null = null;
  const listener = (update: Uint8Array) => (captured = update);
  doc.on('update', listener);
  try {
    doc.transact(change);
  } finally {
    doc.off('update', listener);
  }
  return captured;
}

/** A loaded document and the files that keep it. */
export class DocumentFiles implements StoredDocument {
  private closing: Promise<void> | null = null;
  private compacting = false;
  private nextCompactionAt = 0;
  // Set when an append failed: doc then holds an update the log may not; a snapshot covers it.
  private unstored = false;
  private readonly onDocUpdate = () => this.mirror.schedule();
  private mirror!: TextMirror;
  private log!: UpdateLog;

  private constructor(
    readonly name: string,
    readonly doc: Y.Doc,
    readonly loadedFromText: boolean,
    private readonly paths: DocumentPaths,
    private readonly settings: DocumentSettings,
    private readonly onClosed: () => void,
  ) {}

  /** Loads (or creates) document `name`; throws CorruptFileError or a StorageError subclass. */
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
    if (scan.damage?.kind === 'corrupt') throw new CorruptFileError(paths.log, scan.damage.offset, scan.damage.reason);
    if (scan.damage?.kind === 'torn') {
      warn(
        `${paths.log}: cut off a torn last record at offset ${scan.damage.offset}, ` +
          `${scan.damage.droppedBytes} bytes dropped (${scan.damage.reason})`,
      );
    }

    const doc = new Y.Doc();
    const text = doc.getText(TEXT_NAME);
    const hasHistory = snapshot !== null || scan.records.length > 0;
    applyHistory(doc, paths, snapshot, scan);

    const textIsOurs = onDisk.sha256 !== null && onDisk.ownSha256.includes(onDisk.sha256);
    let edit: Uint8Array | null = null;
    let loadedFromText = false;
    if (!hasHistory && onDisk.text !== null && !(textIsOurs && onDisk.text === '')) {
      loadedFromText = true;
      const imported = onDisk.text;
      if (imported !== '') edit = captureUpdate(doc, () => text.insert(0, imported));
    } else if (hasHistory && onDisk.text !== null && !textIsOurs) {
      const change = diffText(text.toString(), onDisk.text);
      if (change) {
        edit = captureUpdate(doc, () => {
          if (change.deleteCount > 0) text.delete(change.index, change.deleteCount);
          if (change.insert) text.insert(change.index, change.insert);
        });
        warn(
          `${paths.text} was edited while the server was stopped; applied the difference as an edit ` +
            `(${change.deleteCount} characters replaced by ${change.insert.length} at ${change.index})`,
        );
      }
    }

    const stored = new DocumentFiles(name, doc, loadedFromText, paths, settings, onClosed);
    stored.log = await UpdateLog.open(paths.log, scan.validBytes, logBytes?.length ?? 0, {
      fs,
      groupCommit: settings.groupCommit,
      onCommitted: (size) => stored.maybeCompact(size),
    });
    try {
      // A new log's directory entry must be durable before anything in it is acknowledged.
      if (logBytes === null) await fs.syncDir(settings.dataDir).catch((err) => Promise.reject(toStorageError(err, 'fsync', settings.dataDir)));
      if (edit) await stored.log.append(edit);
    } catch (err) {
      await stored.log.close().catch(() => undefined);
      throw err;
    }

    const file = new TextFile(fs, paths.text, paths.meta, textIsOurs ? onDisk.sha256 : null);
    stored.mirror = new TextMirror(file, () => text.toString(), settings.textDebounceMs, warn);
    // Creates NAME.txt when missing and replaces a stale copy; a failure is retried later.
    if (onDisk.text !== text.toString() || !textIsOurs) stored.mirror.schedule();
    await stored.mirror.flush();
    doc.on('update', stored.onDocUpdate);
    stored.maybeCompact(stored.log.sizeBytes);
    return stored;
  }

  append(update: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new StoreClosedError(`document ${this.name}`));
    return this.log.append(update).catch((err: unknown) => {
      this.unstored = true;
      throw err;
    });
  }

  /** True once close() has been called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** How many fdatasync calls the log's commits made; for benchmarks and tests. */
  get logSyncCount(): number {
    return this.log.syncCount;
  }

  /** Writes the text file now if a write is pending; resolves when it is done. */
  flushText(): Promise<void> {
    return this.mirror.flush();
  }

  /** Compacts now, whatever the log's size; resolves when the new snapshot and empty log are durable. */
  compact(): Promise<void> {
    if (this.closing) return Promise.reject(new StoreClosedError(`document ${this.name}`));
    return this.log.exclusive(() => this.compactNow());
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.doc.off('update', this.onDocUpdate);
      let failure: unknown = null;
      await this.log.drain();
      if (this.unstored) {
        // Updates whose append failed are in doc (and were relayed); keep them if the disk lets us.
        await this.log.exclusive(() => this.compactNow()).catch((err: unknown) => {
          this.settings.warn(`${this.paths.snapshot}: could not store the updates whose append failed: ${(err as Error).message}`);
        });
      }
      await this.log.close().catch((err: unknown) => (failure ??= err));
      await this.mirror.close().catch((err: unknown) => (failure ??= err));
      this.onClosed();
      if (failure) throw failure;
    })();
    return this.closing;
  }

  private maybeCompact(logBytes: number): void {
    if (logBytes < this.settings.compactBytes || this.compacting || this.closing) return;
    if (Date.now() < this.nextCompactionAt) return;
    this.compacting = true;
    this.log
      .exclusive(() => this.compactNow())
      .catch((err: unknown) => {
        this.nextCompactionAt = Date.now() + COMPACTION_RETRY_MS;
        if (!(err instanceof StoreClosedError)) {
          this.settings.warn(`compaction of ${this.name} failed, will retry: ${(err as PersistenceError).message}`);
        }
      })
      .finally(() => (this.compacting = false));
  }

  // Runs inside log.exclusive: no commit is in flight, so the log holds nothing doc lacks.
  private async compactNow(): Promise<void> {
    const state = Y.encodeStateAsUpdate(this.doc);
    await writeSnapshot(this.settings.fs, this.paths.snapshot, state);
    this.unstored = false;
    await this.log.reset();
  }
}
