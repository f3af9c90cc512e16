// One process per data directory (or, for servers that share one, per document). The lock is a file, .collab.lock, holding the owner's pid,
// host and process start time; it is created complete (written to a temporary name, then
// hard-linked into place, which fails if it exists). A lock whose process is gone, or whose
// pid now belongs to a process started later (pid reuse, e.g. pid 1 in a restarted container),
// is stale and is taken over, so PM2 can restart a server right after `kill -9`.
//
// Node has no flock(); the one race left is two servers taking over the same stale lock in the
// same millisecond, which the re-read before unlinking makes narrow.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockedError, toStorageError } from './errors';

/** The lock file's name in the data directory; dot-prefixed, so never a document's file. */
export const LOCK_FILE_NAME = '.collab.lock';

/** The lock file of one document, when servers share a directory a document at a time (`.NAME.lock`: never a document's file). */
export function documentLockName(document: string): string {
  return `.${document}.lock`;
}

interface LockOwner {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux /proc), to detect a reused pid; null elsewhere. */
  started: string | null;
}

// Locks this process holds, so a second open in the same process is refused too.
const heldHere = new Set<string>();

function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner, lockPath: string): boolean {
  if (owner.host !== hostname()) return true; // cannot look at another machine's processes
  if (owner.pid === process.pid) return heldHere.has(lockPath);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const started = processStartTime(owner.pid);
  return owner.started === null || started === null || started === owner.started;
}

async function readOwner(lockPath: string): Promise<{ raw: string; owner: LockOwner | null } | null> {
  let raw: string;
  try {
    raw = await readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toStorageError(err, 'read', lockPath);
  }
  try {
    const parsed = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { raw, owner: { pid: parsed.pid, host: parsed.host, started: parsed.started ?? null } };
    }
  } catch {
    // fall through: not written by us in full, so nothing holds it
  }
  return { raw, owner: null };
}

/** An exclusive, crash-tolerant lock on a data directory. */
export class DirLock {
  private released: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  /**
   * Takes the lock on `dataDir`, or on one document in it (`.NAME.lock`) when `document` is given;
   * throws LockedError naming the pid that holds it.
   */
  static async acquire(dataDir: string, document?: string): Promise<DirLock> {
    const lockPath = join(dataDir, document === undefined ? LOCK_FILE_NAME : documentLockName(document));
    const owner: LockOwner = { pid: process.pid, host: hostname(), started: processStartTime(process.pid) };
    const content = `${JSON.stringify(owner)}\n`;
    const temp = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, content, { flag: 'wx' });
    } catch (err) {
      throw toStorageError(err, 'create the lock in', dataDir);
    }
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        if (heldHere.has(lockPath)) throw new LockedError(dataDir, process.pid, owner.host, document);
        try {
          await link(temp, lockPath);
          heldHere.add(lockPath);
          return new DirLock(lockPath, content);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw toStorageError(err, 'create', lockPath);
        }
        const found = await readOwner(lockPath);
        if (!found) continue; // released meanwhile
        if (found.owner && isAlive(found.owner, lockPath)) throw new LockedError(dataDir, found.owner.pid, found.owner.host, document);
        // Stale: remove it, unless someone replaced it since we read it.
        const again = await readOwner(lockPath);
        if (again && again.raw === found.raw) await unlink(lockPath).catch(() => undefined);
      }
      const last = await readOwner(lockPath);
      throw new LockedError(dataDir, last?.owner?.pid ?? -1, last?.owner?.host ?? 'unknown host', document);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Removes the lock if it is still ours; idempotent. */
  release(): Promise<void> {
    this.released ??= (async () => {
      heldHere.delete(this.path);
      const found = await readOwner(this.path).catch(() => null);
      if (found && found.raw === this.content) await unlink(this.path).catch(() => undefined);
    })();
    return this.released;
  }
}
