import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreClosedError } from './errors';
import { nodeFsOps } from './fs-ops';
import { scanRecords } from './record-codec';
import { BUSY_BATCH_RECORDS, TARGET_BATCH_RECORDS, UpdateLog } from './update-log';

describe('UpdateLog', () => {
  let dir: string;
  let log: UpdateLog | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collab-log-'));
  });

  afterEach(async () => {
    await log?.close();
    log = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (groupCommit = true) => (log = await UpdateLog.open(join(dir, 'doc.log'), 0, 0, { fs: nodeFsOps, groupCommit }));
  const readBack = () => scanRecords(readFileSync(join(dir, 'doc.log'))).records.map((r) => Buffer.from(r).toString());

  it('keeps records in the order they were appended', async () => {
    const l = await open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => l.append(Buffer.from(`r${i}`))));
    expect(readBack()).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
  });

  it('commits appends made while an fsync runs in one later fsync', async () => {
    const l = await open();
    const first = l.append(Buffer.from('first'));
    await Promise.resolve(); // the first commit has started
    const rest = Array.from({ length: 200 }, (_, i) => l.append(Buffer.from(`r${i}`)));
    await Promise.all([first, ...rest]);
    expect(l.syncCount).toBeLessThanOrEqual(3);
    expect(readBack()).toHaveLength(201);
  });

  it('under load starts commits at most once per commitIntervalMs; an append after a pause commits at once', async () => {
    const l = (log = await UpdateLog.open(join(dir, 'doc.log'), 0, 0, { fs: nodeFsOps, commitIntervalMs: 200 }));
    await l.append(Buffer.from('warm'));
    // Appends every 10 ms for about 300 ms: with a 200 ms interval they go out in two or three commits.
    const synced = l.syncCount;
    const appends: Array<Promise<void>> = [];
    for (let i = 0; i < 30; i++) {
      appends.push(l.append(Buffer.from(`r${i}`)));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(appends);
    expect(l.syncCount - synced).toBeLessThanOrEqual(3);
    expect(readBack()).toEqual(['warm', ...Array.from({ length: 30 }, (_, i) => `r${i}`)]);
    // After a pause longer than the interval an append is not held back: its commit starts at
    // once (it is already in the file's page cache the moment the loop writes it).
    await new Promise((resolve) => setTimeout(resolve, 250));
    const lone = l.append(Buffer.from('lone'));
    let done = false;
    void lone.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(done).toBe(true);
    await lone;
  });

  it('under heavy load (a commit of BUSY_BATCH_RECORDS records or more) spaces commits by busyCommitIntervalMs, else by commitIntervalMs', async () => {
    const l = (log = await UpdateLog.open(join(dir, 'doc.log'), 0, 0, { fs: nodeFsOps, commitIntervalMs: 20, busyCommitIntervalMs: 2000 }));
    const heldFor = async (text: string) => {
      const started = performance.now();
      await l.append(Buffer.from(text));
      return performance.now() - started;
    };
    // One record at a time: each commit is a light one, so the next waits at most 20 ms after it started.
    await heldFor('light 1');
    expect(await heldFor('light 2')).toBeLessThan(1000);
    // After a pause, a burst commits together (one fdatasync for all): a busy commit, of records
    // that came at a low rate (8 over the pause), so the next commit may wait the whole busy interval.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all(Array.from({ length: BUSY_BATCH_RECORDS }, (_, i) => l.append(Buffer.from(`burst ${i}`))));
    const synced = l.syncCount;
    // The next record waits until 2 s after that commit started; it commits alone, a light commit again.
    expect(await heldFor('after the burst')).toBeGreaterThan(1000);
    expect(l.syncCount).toBe(synced + 1);
    expect(await heldFor('light 3')).toBeLessThan(1000);
    expect(readBack()).toEqual([
      'light 1',
      'light 2',
      ...Array.from({ length: BUSY_BATCH_RECORDS }, (_, i) => `burst ${i}`),
      'after the burst',
      'light 3',
    ]);
  });

  it('under heavy load holds a commit no longer than about TARGET_BATCH_RECORDS records take to arrive', async () => {
    const l = (log = await UpdateLog.open(join(dir, 'doc.log'), 0, 0, { fs: nodeFsOps, commitIntervalMs: 20, busyCommitIntervalMs: 2000 }));
    await l.append(Buffer.from('first'));
    // Many records within the 20 ms after that commit: a busy commit at a high rate (more than
    // TARGET_BATCH_RECORDS in 20 ms), so the next one may start 20 ms after it, not 2 s.
    const many = 2 * TARGET_BATCH_RECORDS;
    await Promise.all(Array.from({ length: many }, (_, i) => l.append(Buffer.from(`fast ${i}`))));
    const synced = l.syncCount;
    const started = performance.now();
    await l.append(Buffer.from('next'));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(l.syncCount).toBe(synced + 1);
    expect(readBack()).toEqual(['first', ...Array.from({ length: many }, (_, i) => `fast ${i}`), 'next']);
  });

  it('gives the appends that share a commit one promise, and the next commit another', async () => {
    const l = await open();
    const first = [l.append(Buffer.from('a')), l.append(Buffer.from('b')), l.append(Buffer.from('c'))];
    expect(first[1]).toBe(first[0]);
    expect(first[2]).toBe(first[0]);
    await first[0];
    const next = l.append(Buffer.from('d'));
    expect(next).not.toBe(first[0]);
    await next;
    expect(readBack()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fsyncs each record on its own when group commit is off', async () => {
    const l = await open(false);
    const appends = Array.from({ length: 20 }, (_, i) => l.append(Buffer.from(`r${i}`)));
    expect(new Set(appends).size).toBe(20);
    await Promise.all(appends);
    expect(l.syncCount).toBe(20);
    expect(readBack()).toHaveLength(20);
  });

  it('resolves an append only after its bytes are in the file', async () => {
    const l = await open();
    await l.append(Buffer.from('durable'));
    expect(readBack()).toEqual(['durable']);
    expect(l.sizeBytes).toBe(15);
  });

  it('runs an exclusive task between commits and starts over after reset', async () => {
    const l = await open();
    await l.append(Buffer.from('old'));
    const during = l.exclusive(async () => {
      await l.reset();
      return 'done';
    });
    const after = l.append(Buffer.from('new'));
    await expect(during).resolves.toBe('done');
    await after;
    expect(readBack()).toEqual(['new']);
  });

  it('refuses appends once closed, after finishing the queued ones', async () => {
    const l = await open();
    const queued = l.append(Buffer.from('queued'));
    const closing = l.close();
    await expect(l.append(Buffer.from('late'))).rejects.toBeInstanceOf(StoreClosedError);
    await queued;
    await closing;
    expect(readBack()).toEqual(['queued']);
    log = null;
  });
});
