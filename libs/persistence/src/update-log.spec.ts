import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreClosedError } from './errors';
import { nodeFsOps } from './fs-ops';
import { scanRecords } from './record-codec';
import { UpdateLog } from './update-log';

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

  it('fsyncs each record on its own when group commit is off', async () => {
    const l = await open(false);
    await Promise.all(Array.from({ length: 20 }, (_, i) => l.append(Buffer.from(`r${i}`))));
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
