// The append-only log of one document's Yjs updates (records framed by record-codec.ts).
//
// Group commit: the first append starts a write at once (after the current microtask, so
// appends made in the same tick share it); appends that arrive while a write+fdatasync runs
// wait and all go into the next one. One loop does every write, so nothing interleaves or is
// reordered, and exclusive tasks (compaction) run between two commits.
//
// Writes are positional at the end of the committed bytes. After a failed write or fsync the
// bytes past that point are unknown (partly written, or dropped by the kernel after an EIO),
// so the next commit first cuts the file back to the committed size.

import { constants } from 'node:fs';
import { StoreClosedError, toStorageError } from './errors';
import { writeFully, type FsFile, type FsOps } from './fs-ops';
import { encodeRecord } from './record-codec';

/**
 * The appends that share one commit share one promise: what each waits on until then is its
 * record's bytes and this, not a promise and two functions of its own (under heavy load a
 * commit holds a hundred records; see TARGET_BATCH_RECORDS).
 */
interface Waiters {
  readonly promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newWaiters(): Waiters {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface PendingTask {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** How an UpdateLog commits. */
export interface UpdateLogOptions {
  fs: FsOps;
  /** false: one record per write+fdatasync (the baseline group commit is measured against). */
  groupCommit?: boolean;
  /** Called after each successful commit, with the log's size and its number of records; may queue a task. */
  onCommitted?: (sizeBytes: number, records: number) => void;
  /**
   * Under load, commits start at most this often (default 0: each one as soon as the last
   * ended): appends meanwhile share the next write and fdatasync. A lone append is never held.
   */
  commitIntervalMs?: number;
  /**
   * Under heavy load (the last commit carried BUSY_BATCH_RECORDS records or more), a commit may
   * wait up to this long after the last one started (default: commitIntervalMs), as long as about
   * TARGET_BATCH_RECORDS records take to arrive at the last batch's rate: fewer fdatasyncs and
   * ACKs per edit where there are many, while the edits of a few typists are still committed
   * within commitIntervalMs, and records arriving faster still are not held longer than needed.
   */
  busyCommitIntervalMs?: number;
  /** For a log created by its first append: the directory to fsync once the file exists, so its entry is durable before anything in it is acknowledged. */
  dirToSync?: string;
}

/**
 * A commit of this many records or more means heavy load (see busyCommitIntervalMs): at the
 * default 10 ms interval, 800 edits a second or more into one document.
 */
export const BUSY_BATCH_RECORDS = 8;

/**
 * Under heavy load a commit waits for about this many records (within commitIntervalMs ..
 * busyCommitIntervalMs): at 2,000 edits a second, 50 ms, so the default 40 ms; at 13,000 (a recorded
 * session replayed at full speed), 8 ms, so the default 10. Records held longer than the young
 * generation takes to fill are promoted to the old one with everything they hold on to: a replay
 * of 23,000 transactions held 40 ms each left the server's peak RSS 13 MiB higher.
 */
export const TARGET_BATCH_RECORDS = 100;

/** An open update log that appends records durably, many per fsync. */
export class UpdateLog {
  private committed: number;
  private dirtyTail = false;
  /** Framed records not yet taken by a commit, and their waiters: one per commit to come (one per record without group commit). */
  private records: Uint8Array[] = [];
  private waiters: Waiters[] = [];
  private tasks: PendingTask[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | null = null;
  /** A created file whose directory entry is not known to be durable yet. */
  private dirUnsynced: boolean;
  /** Bytes of records appended and not yet committed or failed (queued and in flight). */
  private uncommittedBytes = 0;
  /** Number of fdatasync calls made by commits; for tests and benchmarks. */
  syncCount = 0;
  /** Records in the log: those found at open (set by the opener) and those committed since. */
  recordCount = 0;
  /** When the last commit and the one before it started (performance.now()), and how many records the last carried. */
  private lastCommitAt = -Infinity;
  private previousCommitAt = -Infinity;
  private lastBatchRecords = 0;

  private constructor(
    readonly path: string,
    /** null until the first commit creates the file (see UpdateLog.create). */
    private file: FsFile | null,
    size: number,
    private readonly options: UpdateLogOptions,
  ) {
    this.committed = size;
    this.dirUnsynced = file === null && options.dirToSync !== undefined;
  }

  /**
   * A log whose file does not exist yet: the first commit creates it (and fsyncs
   * `options.dirToSync`), so a document that is never edited leaves no file behind.
   */
  static create(path: string, options: UpdateLogOptions): UpdateLog {
    return new UpdateLog(path, null, 0, options);
  }

  /**
   * Opens (creating if needed) the log at `path` whose first `validBytes` bytes were read back
   * intact; anything after them is cut off before the first append.
   */
  static async open(path: string, validBytes: number, fileBytes: number, options: UpdateLogOptions): Promise<UpdateLog> {
    let file: FsFile;
    try {
      file = await options.fs.open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (err) {
      throw toStorageError(err, 'open', path);
    }
    const log = new UpdateLog(path, file, validBytes, options);
    if (fileBytes > validBytes) {
      try {
        await file.truncate(validBytes);
        await file.sync();
      } catch (err) {
        await file.close().catch(() => undefined);
        throw toStorageError(err, 'cut the damaged tail off', path);
      }
    }
    return log;
  }

  /** Bytes of intact, durable records in the log. */
  get sizeBytes(): number {
    return this.committed;
  }

  /**
   * The size the log will have once every record appended so far is committed: the end of the
   * last one. (A failed commit drops its records, and the log is shorter than this said.)
   */
  get issuedBytes(): number {
    return this.committed + this.uncommittedBytes;
  }

  /** Appends one record; resolves once it is fsynced, rejects with a StorageError if it may not be. */
  append(payload: Uint8Array): Promise<void> {
    if (this.closed || this.closing) return Promise.reject(new StoreClosedError(`update log ${this.path}`));
    const frame = encodeRecord(payload);
    this.uncommittedBytes += frame.length;
    this.records.push(frame);
    let waiters = this.waiters[this.waiters.length - 1];
    if (!waiters || this.options.groupCommit === false) this.waiters.push((waiters = newWaiters()));
    this.kick();
    return waiters.promise;
  }

  /** Runs `task` between two commits, with no write in flight; used for compaction. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError(`update log ${this.path}`));
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({ run: task, resolve: resolve as (value: unknown) => void, reject });
      this.kick();
    });
  }

  /** Empties the log durably; call only inside `exclusive`, once its records are safe elsewhere. */
  async reset(): Promise<void> {
    if (!this.file) return;
    try {
      await this.file.truncate(0);
    } catch (err) {
      this.dirtyTail = true;
      throw toStorageError(err, 'truncate', this.path);
    }
    // From here the file is empty in the page cache; only its durability is pending.
    this.committed = 0;
    this.recordCount = 0;
    this.dirtyTail = true;
    try {
      await this.file.sync();
    } catch (err) {
      throw toStorageError(err, 'fsync', this.path);
    }
    this.dirtyTail = false;
  }

  /** Resolves when every queued record and task is done. */
  drain(): Promise<void> {
    if (!this.running && this.records.length === 0 && this.tasks.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new appends, waits for the queued ones, closes the file; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.drain();
      this.closed = true;
      if (!this.file) return;
      try {
        await this.file.close();
      } catch (err) {
        throw toStorageError(err, 'close', this.path);
      }
    })();
    return this.closing;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    while (this.tasks.length > 0 || this.records.length > 0) {
      // One task, then one batch: a steady stream of appends cannot starve compaction.
      const task = this.tasks.shift();
      if (task) {
        try {
          task.resolve(await task.run());
        } catch (err) {
          task.reject(err);
        }
      }
      const wait = this.lastCommitAt + this.interval() - performance.now();
      if (this.records.length > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.records.length > 0) {
        this.previousCommitAt = this.lastCommitAt;
        this.lastCommitAt = performance.now();
        const single = this.options.groupCommit === false;
        const batch = single ? this.records.splice(0, 1) : this.records.splice(0);
        const waiters = single ? this.waiters.splice(0, 1) : this.waiters.splice(0);
        this.lastBatchRecords = batch.length;
        try {
          await this.commit(batch);
        } catch (err) {
          // Records queued behind a failed batch may build on it (an edit next to one that was
          // not stored): storing them without it would ACK edits a restart cannot rebuild.
          // They fail too; their writers resend them.
          for (const frame of batch.concat(this.records.splice(0))) this.uncommittedBytes -= frame.length;
          for (const w of waiters.concat(this.waiters.splice(0))) w.reject(err);
          continue;
        }
        for (const w of waiters) w.resolve();
        this.recordCount += batch.length;
        this.options.onCommitted?.(this.committed, this.recordCount);
      }
    }
    this.running = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** How long after the last commit started the next may start (see busyCommitIntervalMs). */
  private interval(): number {
    const { commitIntervalMs = 0, busyCommitIntervalMs = commitIntervalMs } = this.options;
    if (this.lastBatchRecords < BUSY_BATCH_RECORDS) return commitIntervalMs;
    // The last batch gathered over the time between the last two commits' starts.
    const forTarget = ((this.lastCommitAt - this.previousCommitAt) * TARGET_BATCH_RECORDS) / this.lastBatchRecords;
    return Math.max(commitIntervalMs, Math.min(busyCommitIntervalMs, forTarget));
  }

  private async commit(batch: Uint8Array[]): Promise<void> {
    const data = batch.length === 1 ? batch[0] : Buffer.concat(batch);
    let step = 'create';
    try {
      this.file ??= await this.options.fs.open(this.path, constants.O_RDWR | constants.O_CREAT, 0o644);
      if (this.dirUnsynced) {
        step = 'fsync the directory of';
        await this.options.fs.syncDir(this.options.dirToSync!);
        this.dirUnsynced = false;
      }
      if (this.dirtyTail) {
        step = 'cut the unacknowledged tail off';
        await this.file!.truncate(this.committed);
        await this.file!.sync();
        this.dirtyTail = false;
      }
      step = 'write to';
      this.dirtyTail = true;
      await writeFully(this.file, data, this.committed);
      step = 'fsync';
      await this.file!.datasync();
      this.syncCount++;
    } catch (err) {
      throw toStorageError(err, step, this.path);
    }
    this.dirtyTail = false;
    this.committed += data.length;
    this.uncommittedBytes -= data.length;
  }
}
