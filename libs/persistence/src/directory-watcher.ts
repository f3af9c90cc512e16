// One fs.watch on the data directory, telling each open document when something happened to its
// NAME.txt. The directory is watched, not the file: vim, sed -i, VS Code and most editors save by
// writing a new file and renaming it over the old one, which ends a watch on the old file.
// An event only says "look again": what changed is found by reading (see live-text-file.ts).

import { watch, type FSWatcher } from 'node:fs';

/** How long to wait before watching again after the watch failed. */
const RESTART_AFTER_MS = 1000;

/** Watches one directory for changes to the files registered with watch(). */
export class DirectoryWatcher {
  private watcher: FSWatcher | null = null;
  private readonly listeners = new Map<string, Set<() => void>>();
  private restartTimer: NodeJS.Timeout | null = null;
  private failing = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Calls `listener` whenever `fileName` (a name in the directory) may have changed; returns the unsubscribe. */
  watch(fileName: string, listener: () => void): () => void {
    let set = this.listeners.get(fileName);
    if (!set) this.listeners.set(fileName, (set = new Set()));
    set.add(listener);
    if (!this.watcher && !this.restartTimer) this.start();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(fileName) === set) this.listeners.delete(fileName);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops watching; idempotent. */
  close(): void {
    this.closed = true;
    this.stop();
  }

  private start(): void {
    if (this.closed || this.listeners.size === 0) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, fileName) => this.dispatch(fileName));
    } catch (error) {
      this.failed(error as Error);
      return;
    }
    this.watcher.on('error', (error) => this.failed(error));
    if (this.failing) {
      this.failing = false;
      // Whatever changed while the watch was down.
      this.dispatch(null);
    }
  }

  private stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private failed(error: Error): void {
    this.stop();
    if (this.closed) return;
    if (!this.failing) this.warn(`cannot watch ${this.dir} for edits of the text files (${error.message}); will try again`);
    this.failing = true;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, RESTART_AFTER_MS);
    this.restartTimer.unref();
  }

  private dispatch(fileName: string | Buffer | null): void {
    const name = fileName === null ? null : fileName.toString();
    const targets = name === null ? [...this.listeners.values()] : [this.listeners.get(name)];
    for (const set of targets) for (const listener of set ?? []) listener();
  }
}
