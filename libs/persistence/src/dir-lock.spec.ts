import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirLock, LOCK_FILE_NAME } from './dir-lock';
import { LockedError } from './errors';

describe('DirLock', () => {
  let dir: string;
  const locks: DirLock[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collab-lock-'));
  });

  afterEach(async () => {
    for (const l of locks.splice(0)) await l.release();
    rmSync(dir, { recursive: true, force: true });
  });

  const acquire = async () => {
    const lock = await DirLock.acquire(dir);
    locks.push(lock);
    return lock;
  };

  it('refuses a second holder in the same process, naming the directory and pid', async () => {
    await acquire();
    const err = await DirLock.acquire(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_LOCKED', pid: process.pid });
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(String(process.pid));
  });

  it('refuses while another live process holds the lock', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: other.pid, host: hostname(), started: null }));
      await expect(DirLock.acquire(dir)).rejects.toMatchObject({ code: 'COLLAB_ERR_LOCKED', pid: other.pid });
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a stale lock left by a killed process', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid, host: hostname(), started: '1' }));
    await acquire();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE_NAME), 'utf8')).pid).toBe(process.pid);
  });

  it('takes over a lock whose pid now belongs to a later process', async () => {
    writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: process.ppid, host: hostname(), started: 'not-its-start-time' }));
    const lock = await acquire();
    expect(lock.path).toBe(join(dir, LOCK_FILE_NAME));
  });

  it('takes over a lock file with this pid that this process does not hold (restarted container)', async () => {
    writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: process.pid, host: hostname(), started: null }));
    await acquire();
  });

  it('removes the lock on release, so the directory can be locked again', async () => {
    const lock = await acquire();
    await lock.release();
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE_NAME))).toBe(false);
    await acquire();
  });
});
