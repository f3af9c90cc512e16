// FsOps that fail on demand, for tests of disk-full and I/O-error handling (here and in the
// collab server's ERROR 7 tests): faults that cannot be caused for real on a test machine.
// Everything not failed goes to the real file system.

import type { FsFile, FsOps } from './fs-ops';
import { nodeFsOps } from './fs-ops';

/** The calls a fault can hit. */
export type FaultyOp = 'open' | 'write' | 'datasync' | 'sync' | 'truncate' | 'rename' | 'unlink' | 'syncDir';

/** One injected fault: calls of `op` on paths that `match` fail with `errno`. */
export interface Fault {
  op: FaultyOp;
  errno: string;
  /** Which files; default every file. */
  match?: (path: string) => boolean;
  /** For 'write': really write the first half, then fail (a short write, as ENOSPC often is). */
  partial?: boolean;
}

function errnoError(errno: string, op: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${errno}: injected fault, ${op} '${path}'`), { code: errno, errno: -1, syscall: op, path });
}

/** An FsOps over node:fs whose calls fail while a matching fault is set. */
export class FaultyFs implements FsOps {
  private faults: Fault[] = [];
  /** How many calls of each op were made (failed ones included). */
  readonly calls: Record<FaultyOp, number> = { open: 0, write: 0, datasync: 0, sync: 0, truncate: 0, rename: 0, unlink: 0, syncDir: 0 };

  constructor(private readonly real: FsOps = nodeFsOps) {}

  /** Adds a fault; it stays until heal(). */
  fail(fault: Fault): this {
    this.faults.push(fault);
    return this;
  }

  /** Removes every fault: the disk works again. */
  heal(): void {
    this.faults = [];
  }

  private fault(op: FaultyOp, path: string): Fault | undefined {
    this.calls[op]++;
    return this.faults.find((f) => f.op === op && (!f.match || f.match(path)));
  }

  async open(path: string, flags: string | number, mode?: number): Promise<FsFile> {
    const f = this.fault('open', path);
    if (f) throw errnoError(f.errno, 'open', path);
    const file = await this.real.open(path, flags, mode);
    return {
      write: async (data, position) => {
        const w = this.fault('write', path);
        if (w) {
          if (w.partial && data.length > 1) await file.write(data.subarray(0, data.length >> 1), position);
          throw errnoError(w.errno, 'write', path);
        }
        return file.write(data, position);
      },
      datasync: async () => {
        const s = this.fault('datasync', path);
        if (s) throw errnoError(s.errno, 'fdatasync', path);
        return file.datasync();
      },
      sync: async () => {
        const s = this.fault('sync', path);
        if (s) throw errnoError(s.errno, 'fsync', path);
        return file.sync();
      },
      truncate: async (length) => {
        const t = this.fault('truncate', path);
        if (t) throw errnoError(t.errno, 'ftruncate', path);
        return file.truncate(length);
      },
      close: () => file.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const f = this.fault('rename', to);
    if (f) throw errnoError(f.errno, 'rename', to);
    return this.real.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    const f = this.fault('unlink', path);
    if (f) throw errnoError(f.errno, 'unlink', path);
    return this.real.unlink(path);
  }

  async syncDir(path: string): Promise<void> {
    const f = this.fault('syncDir', path);
    if (f) throw errnoError(f.errno, 'fsync', path);
    return this.real.syncDir(path);
  }
}
