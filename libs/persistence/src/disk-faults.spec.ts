import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocumentStore } from './document-store';
import { DiskFullError, DiskIoError, ReadOnlyStorageError, StorageError, StoragePermissionError } from './errors';
import { FaultyFs, type Fault } from './faulty-fs';
import { scanRecords } from './record-codec';
import { openLive, type LiveDocument } from '../test/live-document';

describe('disk faults', () => {
  let dir: string;
  let stores: DocumentStore[] = [];
  let warnings: string[];
  let fs: FaultyFs;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collab-faults-'));
    stores = [];
    warnings = [];
    fs = new FaultyFs();
  });

  afterEach(async () => {
    fs.heal();
    for (const s of stores) await s.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (withFaults = true) => {
    const store = await DocumentStore.open({
      dataDir: dir,
      fs: withFaults ? fs : undefined,
      textDebounceMs: 10,
      onWarning: (m) => warnings.push(m),
    });
    stores.push(store);
    return store;
  };

  function edit(d: LiveDocument, s: string): Promise<void> {
    let update: Uint8Array | null = null;
    const listen = (u: Uint8Array) => (update = u);
    d.doc.on('update', listen);
    const text = d.doc.getText('content');
    text.insert(text.length, s);
    d.doc.off('update', listen);
    return d.append(update!);
  }

  const onLog = (path: string) => path.endsWith('.log');

  async function reload(): Promise<string> {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    stores = [];
    const store = await open(false);
    return (await openLive(store, 'doc')).doc.getText('content').toString();
  }

  const cases: Array<[string, Fault, new (...args: never[]) => Error]> = [
    ['ENOSPC on write', { op: 'write', errno: 'ENOSPC', match: onLog }, DiskFullError],
    ['a short write then ENOSPC', { op: 'write', errno: 'ENOSPC', match: onLog, partial: true }, DiskFullError],
    ['EIO on write', { op: 'write', errno: 'EIO', match: onLog }, DiskIoError],
    ['ENOSPC on fsync', { op: 'datasync', errno: 'ENOSPC', match: onLog }, DiskFullError],
    ['EIO on fsync', { op: 'datasync', errno: 'EIO', match: onLog }, DiskIoError],
    ['EROFS on write', { op: 'write', errno: 'EROFS', match: onLog }, ReadOnlyStorageError],
    ['EACCES on write', { op: 'write', errno: 'EACCES', match: onLog }, StoragePermissionError],
  ];

  it.each(cases)('rejects an append with a typed error on %s, loses nothing acknowledged, and recovers', async (_label, fault, type) => {
    const store = await open();
    const d = await openLive(store, 'doc');
    await edit(d, 'a');
    await edit(d, 'b');
    fs.fail(fault);
    const err = await edit(d, 'X').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_STORAGE', errno: fault.errno });
    expect((err as Error).message).toContain('doc.log');
    // Still readable while the disk is failing.
    expect(d.doc.getText('content').toString()).toBe('abX');
    fs.heal();
    await edit(d, 'c');
    // The log holds exactly the acknowledged records, nothing torn between them.
    const scan = scanRecords(readFileSync(join(dir, 'doc.log')));
    expect(scan.damage).toBeNull();
    expect(scan.records).toHaveLength(3);
    await store.close();
    // 'X' was never acknowledged, but close stores what the document holds when it can.
    expect(await reload()).toBe('abXc');
  });

  it('keeps acknowledged updates when the disk fails until shutdown', async () => {
    const store = await open();
    const d = await openLive(store, 'doc');
    await edit(d, 'kept');
    fs.fail({ op: 'write', errno: 'ENOSPC' }).fail({ op: 'open', errno: 'ENOSPC' });
    await expect(edit(d, 'lost')).rejects.toBeInstanceOf(DiskFullError);
    await expect(store.close()).rejects.toBeInstanceOf(DiskFullError);
    expect(warnings.some((w) => w.includes('could not store the updates whose append failed'))).toBe(true);
    fs.heal();
    expect(await reload()).toBe('kept');
  });

  it('reports a failing text file write as a warning and catches up when the disk recovers', async () => {
    const store = await open();
    const d = await openLive(store, 'doc');
    fs.fail({ op: 'write', errno: 'ENOSPC', match: (p) => p.endsWith('.txt.tmp') });
    await edit(d, 'text');
    await d.flushText();
    expect(existsSync(join(dir, 'doc.txt'))).toBe(false);
    expect(warnings.join('\n')).toMatch(/doc\.txt.*ENOSPC/);
    fs.heal();
    await edit(d, '!');
    for (let i = 0; i < 300 && !(existsSync(join(dir, 'doc.txt')) && readFileSync(join(dir, 'doc.txt'), 'utf8') === 'text!'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(join(dir, 'doc.txt'), 'utf8')).toBe('text!');
  });

  it('retries a failed compaction and loses nothing meanwhile', async () => {
    const store = await DocumentStore.open({ dataDir: dir, fs, compactBytes: 200, onWarning: (m) => warnings.push(m) });
    stores.push(store);
    const d = await openLive(store, 'doc');
    fs.fail({ op: 'rename', errno: 'EIO', match: (p) => p.endsWith('.snapshot') });
    for (let i = 0; i < 30; i++) await edit(d, String(i % 10));
    expect(warnings.some((w) => w.startsWith('compaction of doc failed'))).toBe(true);
    fs.heal();
    await d.compact();
    expect(await reload()).toBe(Array.from({ length: 30 }, (_, i) => i % 10).join(''));
  });
});
