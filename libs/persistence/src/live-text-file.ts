// NAME.txt kept in step with the live document both ways: the document's changes are written to
// it (debounced, see text-mirror.ts), and an outside write to it (an editor's save, sed -i, >>, a
// copy over it) becomes an edit of the document, merged three-way against the text the server
// last wrote there (see text-merge.ts in the core), so nobody's typing is lost.
//
// All file work of one document runs one step at a time (writes, looks at the file, merges).
// A look starts from an event on the directory (debounced) or a slow poll, and reads the file
// until it holds still (the same inode, size and mtime before, after, and a moment after the read),
// so a file half written is never merged. What it finds:
//   the stamp or the checksum of a text the store wrote   nothing to do (its own writes)
//   no file                                               written again from the document, [WARN]
//   not UTF-8, or longer than a document may be           refused, [WARN]: left as it is, and not
//                                                          written over, until fixed or deleted
//   anything else                                         merged; then written (or, when the
//                                                          document's text is now exactly the file's,
//                                                          only recorded as the store's own)
// A merge is stored before the file is recorded as merged: a kill -9 in between merges it again
// at the next start, which finds it made already (see text-merge.ts), so it is neither lost nor doubled.

import { basename } from 'node:path';
import { diffText, type LiveDocumentView } from '@collab/collab-core';
import type { BaseTracker, TextBase } from './base-tracker';
import type { DirectoryWatcher } from './directory-watcher';
import { TextFileRefusedError } from './errors';
import {
  readFileWithStamp,
  sameStamp,
  sha256Hex,
  stampFile,
  type BaseRef,
  type FileRead,
  type FileStamp,
  type TextFile,
} from './text-file';
import { TextMirror } from './text-mirror';

/** Between two looks at the file when no event came (a watch can miss one). */
const POLL_MS = 2000;
/** After a merge that failed (the disk), the next try. */
const RETRY_MS = 1000;
/** Rounds of look-merge-write in one step before giving up for now (a file that keeps changing). */
const MAX_ROUNDS = 5;
/** Reads of a file that keeps changing before what was read last is taken as it is. */
const MAX_READS = 20;
/** Files up to this size are read and hashed on every event, not only when their stamp changed (timestamps are coarse). */
const HASH_ALWAYS_BYTES = 1024 * 1024;

/** Texts written before the last one that an outside edit may still be based on (an editor's buffer read a while ago): at most this many, ... */
const RECENT_TEXTS = 64;
/** ... this young, ... */
const RECENT_TEXTS_MS = 10 * 60 * 1000;
/** ... and this many characters in all. */
const RECENT_TEXTS_CHARS = 8 * 1024 * 1024;
/** Older texts looked at past the best so far before the search stops (their distance to the file grows with age). */
const RECENT_TEXTS_PATIENCE = 3;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A text that NAME.txt held, and where the document as it was then is found: on disk, or kept here (a merged file). */
interface WrittenText {
  readonly text: string;
  readonly ref?: BaseRef;
  readonly base?: TextBase;
  readonly at: number;
}

/** How much changes from `a` to `b`. */
function distance(a: string, b: string): number {
  return diffText(a, b).reduce((n, c) => n + c.deleteCount + c.insert.length, 0);
}

/** How a LiveTextFile behaves. */
export interface LiveTextFileSettings {
  /** The file's name as messages say it (`temp.txt`). */
  source: string;
  textPath: string;
  /** Delay between a change of the document and the write that shows it. */
  debounceMs: number;
  /** How long the file must hold still before it is read as an outside edit. */
  settleMs: number;
  /** Longest text a document may hold; a longer file is refused. */
  maxChars: number;
  warn: (message: string) => void;
}

/** What a LiveTextFile works with. */
export interface LiveTextFileParts {
  view: LiveDocumentView;
  file: TextFile;
  base: BaseTracker;
  /** Where the document now would be found again on disk (for NAME.meta). */
  ref: () => BaseRef;
  /** Called after each write of NAME.txt that made it the store's own. */
  written?: () => void;
  /** The base `ref` finds on disk; null when it is gone (a compaction). */
  rebuild?: (ref: BaseRef) => Promise<TextBase | null>;
}

type Look =
  { kind: 'same' } | { kind: 'missing' } | { kind: 'changed'; read: FileRead; sha: string } | { kind: 'too-large'; stamp: FileStamp };

type Taken = 'merged' | 'refused' | 'deferred' | 'failed';

// Not unref'd: a close waits on these reads, and an unref'd wait would let a stopping process end
// before the document's last text is written.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A document's NAME.txt, followed both ways. */
export class LiveTextFile {
  private queue: Promise<void> = Promise.resolve();
  private readonly mirror: TextMirror;
  /** Why NAME.txt is left alone, while it holds an outside edit that was refused; null otherwise. */
  private refusal: string | null = null;
  /** Checksum of the refused text (null: not read), so the same file is not reported twice. */
  private refusedSha: string | null = null;
  private eventTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** A look is queued (and whether it reads the file whatever its stamp). */
  private lookQueued: { deep: boolean } | null = null;
  private unwatch: (() => void) | null = null;
  private stopped = false;
  /** Texts written lately, oldest first; the last is the base's. */
  private recent: WrittenText[] = [];

  constructor(
    private readonly settings: LiveTextFileSettings,
    private readonly parts: LiveTextFileParts,
  ) {
    this.mirror = new TextMirror(() => this.run(() => this.sync({ write: true })), settings.debounceMs, settings.warn);
  }

  /** Follows outside edits: events from `watcher`, and a slow poll in case one is missed. */
  watch(watcher: DirectoryWatcher): void {
    if (this.stopped || this.unwatch) return;
    this.unwatch = watcher.watch(basename(this.settings.textPath), () => this.fileEvent());
    this.pollTimer = setInterval(() => this.look(false), POLL_MS);
    this.pollTimer.unref();
  }

  /** The document changed: the file follows shortly. */
  changed(): void {
    this.mirror.schedule();
  }

  /** Whether NAME.txt holds a refused outside edit (and is left alone). */
  get refused(): boolean {
    return this.refusal !== null;
  }

  /** Writes the file now if it is behind; rejects with TextFileRefusedError while it holds a refused edit. */
  async flush(): Promise<void> {
    await this.run(async () => undefined); // a merge under way may end a refusal
    if (this.refusal) throw new TextFileRefusedError(this.settings.source, this.refusal);
    this.mirror.schedule();
    await this.mirror.flush();
    if (this.refusal) throw new TextFileRefusedError(this.settings.source, this.refusal);
  }

  /**
   * Merges the file as found at load (it changed while the server was stopped) against `base`,
   * then writes it. `first`: it is the document's first text (no history), nothing to warn about.
   */
  mergeFound(read: FileRead, base: TextBase | null, first = false): Promise<void> {
    return this.run(async () => {
      if ((await this.take(read, sha256Hex(read.bytes), base, true, first)) === 'merged') await this.sync({ write: true });
    });
  }

  /** The text file itself. */
  get file(): TextFile {
    return this.parts.file;
  }

  /** Runs `task` between two steps of the file's work (a compaction moves the base those steps record). */
  betweenSteps<T>(task: () => Promise<T>): Promise<T> {
    return this.run(task);
  }

  /** Refuses the file as found at load without reading it (too large). */
  refuseFound(stamp: FileStamp, reason: string): void {
    this.parts.file.noteDisk({ sha: null, stamp });
    this.refuse(reason, null);
  }

  /** Stops following the file and waits for the step under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of [this.eventTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.eventTimer = this.retryTimer = this.pollTimer = null;
    this.unwatch?.();
    this.unwatch = null;
    await this.queue;
  }

  /**
   * Stops, then writes the exact text one last time, unless the file holds an outside edit that
   * is not merged (refused, or saved just now): that is left as it is for the next load.
   */
  async close(): Promise<void> {
    await this.stop();
    await this.mirror.close();
  }

  /** Runs `step` after the steps before it. */
  private run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.queue.then(step);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private fileEvent(): void {
    if (this.stopped) return;
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.eventTimer = setTimeout(() => {
      this.eventTimer = null;
      this.look(true);
    }, this.settings.settleMs);
    this.eventTimer.unref();
  }

  /** Queues a look at the file (at most one waits at a time). */
  private look(deep: boolean): void {
    if (this.stopped) return;
    if (this.lookQueued) {
      this.lookQueued.deep ||= deep;
      return;
    }
    const queued = (this.lookQueued = { deep });
    this.run(() => {
      this.lookQueued = null;
      return this.sync({ write: false, deep: queued.deep });
    }).catch((error: Error) => this.settings.warn(`${this.settings.source}: ${error.message}`));
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.look(true);
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /**
   * One step: looks at the file and takes an outside edit in; then, when `write` (or after a
   * merge or a deletion), makes the file hold the document's text. Throws when the disk fails.
   */
  private async sync(options: { write: boolean; deep?: boolean }): Promise<void> {
    const { file, view, base, ref } = this.parts;
    let { write, deep = false } = options;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const found = await this.lookAtFile(deep);
      if (found.kind === 'missing') {
        this.settings.warn(`${this.settings.source} was deleted; writing it again from the document`);
        file.noteDisk(null);
        this.refusal = null;
        write = true;
      } else if (found.kind === 'too-large') {
        file.noteDisk({ sha: null, stamp: found.stamp });
        this.refuse(`is ${found.stamp.size} bytes, longer than a document may be (${this.settings.maxChars} characters)`, null);
        return;
      } else if (found.kind === 'changed') {
        if ((await this.take(found.read, found.sha, await this.baseFor(found.read.bytes))) !== 'merged') return;
        write = true;
      }
      if (this.refusal || !write) return;
      const reading = performance.now();
      const mark = base.mark(view.text(), () => view.encodeSnapshot());
      this.mirror.noteBusy(performance.now() - reading);
      const markRef = ref();
      const { outcome, raced } = await file.write(mark.text, markRef);
      if (outcome === 'changed-outside') {
        deep = true;
        continue;
      }
      if (raced) {
        // An in-place write into the file just replaced: an edit of the text that was there.
        const stamp = file.onDisk!.stamp;
        await this.take({ bytes: raced, stamp, steady: true }, sha256Hex(raced), base.current(), false);
      }
      base.advance(mark);
      if (outcome !== 'unchanged') this.remember(mark.text, markRef);
      this.parts.written?.();
      if (!raced) return;
    }
    this.settings.warn(`${this.settings.source} keeps changing; will look at it again`);
    this.retryLater();
  }

  /** Forgets the texts written before the last: their states are not on disk any more (a compaction). */
  forgetOlderTexts(): void {
    this.recent = this.recent.slice(-1);
  }

  private remember(text: string, ref: BaseRef): void {
    const now = Date.now();
    this.recent.push({ text, ref, at: now });
    let chars = this.recent.reduce((n, w) => n + w.text.length, 0);
    while (
      this.recent.length > 1 &&
      (this.recent.length > RECENT_TEXTS || now - this.recent[0].at > RECENT_TEXTS_MS || chars > RECENT_TEXTS_CHARS)
    ) {
      chars -= this.recent.shift()!.text.length;
    }
  }

  /**
   * The base an outside text is merged against: the text last written, unless the file is
   * closer to one written before it (an editor saved a buffer it read before the server's
   * latest writes; merged against the last text, what others typed since would be undone).
   */
  private async baseFor(bytes: Buffer): Promise<TextBase | null> {
    const latest = this.parts.base.current();
    if (!latest || this.recent.length < 2) return latest;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return latest;
    }
    let best: WrittenText | null = null;
    let bestDistance = distance(latest.text, text);
    let patience = RECENT_TEXTS_PATIENCE;
    for (let i = this.recent.length - 2; i >= 0 && bestDistance > 0 && patience > 0; i--) {
      const candidate = this.recent[i];
      if (candidate.text === latest.text) continue;
      const d = distance(candidate.text, text);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
        patience = RECENT_TEXTS_PATIENCE;
      } else {
        patience--;
      }
    }
    if (!best) return latest;
    if (best.base) return best.base;
    const rebuilt = best.ref && this.parts.rebuild ? await this.parts.rebuild(best.ref) : null;
    return rebuilt && rebuilt.text === best.text ? rebuilt : latest;
  }

  /** What the file holds now, as far as it differs from what this last saw. */
  private async lookAtFile(deep: boolean): Promise<Look> {
    const { file, textPath } = { file: this.parts.file, textPath: this.settings.textPath };
    const known = file.onDisk;
    let stamp = await stampFile(textPath);
    if (stamp === null) {
      if (known === null) return { kind: 'same' };
      // Editors save by renaming a new file over the old one, or delete then write: give it a moment.
      await sleep(this.settings.settleMs);
      stamp = await stampFile(textPath);
      if (stamp === null) return { kind: 'missing' };
    }
    if (known && sameStamp(stamp, known.stamp) && !(deep && stamp.size <= HASH_ALWAYS_BYTES)) return { kind: 'same' };
    if (Number.isFinite(this.settings.maxChars) && stamp.size > BigInt(3 * this.settings.maxChars)) {
      // Every character takes at most 3 bytes of UTF-8 per UTF-16 unit: no need to read it.
      return sameStamp(stamp, known?.stamp ?? null) ? { kind: 'same' } : { kind: 'too-large', stamp };
    }
    let read: FileRead | null = null;
    for (let i = 0; i < MAX_READS; i++) {
      read = await readFileWithStamp(textPath);
      if (read === null) {
        await sleep(this.settings.settleMs);
        if ((await stampFile(textPath)) === null) return known === null ? { kind: 'same' } : { kind: 'missing' };
        continue;
      }
      if (!read.steady) {
        await sleep(this.settings.settleMs);
        continue;
      }
      await sleep(this.settings.settleMs);
      if (sameStamp(await stampFile(textPath), read.stamp)) break;
    }
    if (read === null) return { kind: 'same' };
    const sha = sha256Hex(read.bytes);
    if (sha === known?.sha || file.isOwn(sha)) {
      // Ours (or already taken in), perhaps touched: remember its new stamp.
      file.noteDisk({ sha, stamp: read.stamp });
      return { kind: 'same' };
    }
    return { kind: 'changed', read, sha };
  }

  /**
   * Takes an outside text in: refused when it is not UTF-8 or too long, merged otherwise
   * (resolving once the merge is stored). `note`: the file now holds it (false for a raced write).
   */
  private async take(read: FileRead, sha: string, base: TextBase | null, note = true, first = false): Promise<Taken> {
    const { source, maxChars } = this.settings;
    if (note) this.parts.file.noteDisk({ sha, stamp: read.stamp });
    if (this.stopped) {
      this.settings.warn(`${source} changed as the server stopped; it is left as it is and merged at the next start`);
      return 'deferred';
    }
    let text: string;
    try {
      text = utf8.decode(read.bytes);
    } catch {
      this.refuse('is not valid UTF-8', sha);
      return 'refused';
    }
    if (text.length > maxChars) {
      this.refuse(`holds ${text.length} characters, more than a document may (${maxChars})`, sha);
      return 'refused';
    }
    try {
      const result = await this.parts.view.mergeOutsideText({
        text,
        base: base?.text ?? null,
        baseSnapshot: base?.snapshot ?? null,
        source,
      });
      if (result.fileSnapshot && note) {
        // The file's text is the base of the next outside edit, before it is recorded as merged
        // (an edit saved meanwhile starts from it).
        const merged = { text, snapshot: result.fileSnapshot };
        this.parts.base.reset(merged);
        this.recent = [{ text, base: merged, at: Date.now() }];
      }
      if (result.merged === 'two-way' && !first) {
        this.settings.warn(
          `${source} was merged against the document's text as it is now (${result.why}): typing since ${source} was last written may be undone`,
        );
      }
    } catch (error) {
      const e = error as Error & { code?: string; reason?: string };
      if (e.code === 'COLLAB_ERR_UPDATE_REFUSED' && e.reason === 'too-large') {
        this.refuse(`is not merged: ${e.message}`, sha);
        return 'refused';
      }
      this.settings.warn(`could not merge ${source}: ${e.message}; will try again`);
      // Seen as new at the next look, which merges it again (or finds it made already, see text-merge.ts).
      if (note) this.parts.file.noteDisk({ sha: null, stamp: { ino: -1n, size: -1n, mtimeNs: -1n } });
      this.retryLater();
      return 'failed';
    }
    this.refusal = null;
    return 'merged';
  }

  private refuse(reason: string, sha: string | null): void {
    const again = this.refusal === reason && sha !== null && this.refusedSha === sha;
    this.refusal = reason;
    this.refusedSha = sha;
    if (again) return;
    this.settings.warn(
      `${this.settings.source} ${reason}: it is left untouched and not merged, and the server does not write it, until it is fixed or deleted`,
    );
  }
}
