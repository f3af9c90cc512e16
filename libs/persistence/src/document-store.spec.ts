import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { DocumentStore, type StoreOptions } from './document-store';
import { CorruptFileError, InvalidDocumentNameError, InvalidOptionError, StoreClosedError } from './errors';
import { encodeRecord } from './record-codec';
import { openLive, type LiveDocument } from '../test/live-document';

describe('DocumentStore', () => {
  let dir: string;
  let stores: DocumentStore[] = [];
  let warnings: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collab-store-'));
    warnings = [];
  });

  afterEach(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    stores = [];
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (options: Partial<StoreOptions> = {}, dataDir = dir) => {
    const store = await DocumentStore.open({ dataDir, onWarning: (m) => warnings.push(m), ...options });
    stores.push(store);
    return store;
  };

  // Edits the document the way the server does: apply to doc, then append the update.
  async function type(d: LiveDocument, at: number, s: string): Promise<void> {
    let update: Uint8Array | null = null;
    const listen = (u: Uint8Array) => (update = u);
    d.doc.on('update', listen);
    d.doc.getText('content').insert(at, s);
    d.doc.off('update', listen);
    await d.append(update!);
  }

  const textOf = (d: { doc: Y.Doc }) => d.doc.getText('content').toString();
  const file = (name: string) => join(dir, name);

  it('creates no file for a document that is never edited, and NAME.txt and NAME.log with its first edit', async () => {
    const store = await open({ textDebounceMs: 0 });
    const d = await openLive(store, 'temp');
    expect(d.loadedFromText).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('temp'))).toEqual([]);
    await d.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('temp'))).toEqual([]);
    const again = await openLive(store, 'temp');
    await type(again, 0, 'first');
    await again.flushText();
    expect(readFileSync(file('temp.txt'), 'utf8')).toBe('first');
    expect(existsSync(file('temp.log'))).toBe(true);
  });

  it('writes NAME.txt when asked to, even for an empty new document (the server does so for temp.txt at start)', async () => {
    const store = await open();
    const d = await openLive(store, 'temp');
    await d.flushText();
    expect(readFileSync(file('temp.txt'), 'utf8')).toBe('');
  });

  it('keeps every acknowledged update across a restart', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'hello');
    await type(d, 5, ' world');
    await store.close();
    store = await open();
    expect(textOf(await openLive(store, 'notes'))).toBe('hello world');
    expect(readFileSync(file('notes.txt'), 'utf8')).toBe('hello world');
  });

  it('writes NAME.txt exactly on close', async () => {
    const store = await open({ textDebounceMs: 60_000 });
    const d = await openLive(store, 'notes');
    await type(d, 0, 'typed');
    expect(existsSync(file('notes.txt'))).toBe(false);
    await d.close();
    expect(readFileSync(file('notes.txt'), 'utf8')).toBe('typed');
  });

  it('refreshes NAME.txt soon after a change', async () => {
    const store = await open({ textDebounceMs: 20 });
    const d = await openLive(store, 'notes');
    await type(d, 0, 'soon');
    const onDisk = () => (existsSync(file('notes.txt')) ? readFileSync(file('notes.txt'), 'utf8') : null);
    for (let i = 0; i < 200 && onDisk() !== 'soon'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(file('notes.txt'), 'utf8')).toBe('soon');
  });

  it("makes a NAME.txt that has no log the document's text", async () => {
    writeFileSync(file('temp.txt'), 'written by hand\n');
    let store = await open();
    let d = await openLive(store, 'temp');
    expect(d.loadedFromText).toBe(true);
    expect(textOf(d)).toBe('written by hand\n');
    await store.close();
    store = await open();
    d = await openLive(store, 'temp');
    expect(d.loadedFromText).toBe(false);
    expect(textOf(d)).toBe('written by hand\n');
  });

  it('applies a hand edit made while the server was stopped as an edit', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'the quick fox');
    await store.close();
    writeFileSync(file('notes.txt'), 'the quick brown fox');
    store = await open();
    const again = await openLive(store, 'notes');
    expect(textOf(again)).toBe('the quick brown fox');
    expect(warnings.join('\n')).toMatch(/notes\.txt was edited while the server was stopped/);
    await store.close();
    store = await open();
    expect(textOf(await openLive(store, 'notes'))).toBe('the quick brown fox');
    expect(warnings.filter((w) => w.includes('edited'))).toHaveLength(1);
  });

  it('does not mistake a text file left behind by a crash for a hand edit', async () => {
    const store = await open({ textDebounceMs: 60_000 });
    const d = await openLive(store, 'notes');
    await type(d, 0, 'before');
    await d.flushText();
    await type(d, 6, ' after');
    // A copy of the directory now is what kill -9 would leave: the log has both, the text only 'before'.
    const crashed = mkdtempSync(join(tmpdir(), 'collab-crashed-'));
    try {
      cpSync(dir, crashed, { recursive: true });
      rmSync(join(crashed, '.collab.lock'));
      expect(readFileSync(join(crashed, 'notes.txt'), 'utf8')).toBe('before');
      const other = await open({}, crashed);
      expect(textOf(await openLive(other, 'notes'))).toBe('before after');
      await other.close();
      expect(readFileSync(join(crashed, 'notes.txt'), 'utf8')).toBe('before after');
      expect(warnings).toEqual([]);
    } finally {
      rmSync(crashed, { recursive: true, force: true });
    }
  });

  it('cuts a torn last record off with a warning naming the file and the bytes dropped', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'kept');
    await store.close();
    const intact = statSync(file('notes.log')).size;
    appendFileSync(file('notes.log'), encodeRecord(Buffer.from('torn record')).subarray(0, 10));
    store = await open();
    const again = await openLive(store, 'notes');
    expect(textOf(again)).toBe('kept');
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`notes\\.log.*offset ${intact}.*10 bytes dropped`))]);
    expect(statSync(file('notes.log')).size).toBe(intact);
    await type(again, 4, '!');
    await store.close();
    store = await open();
    expect(textOf(await openLive(store, 'notes'))).toBe('kept!');
  });

  it('stops at a checksum mismatch naming file and offset, and changes nothing', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'one');
    const second = statSync(file('notes.log')).size;
    await type(d, 3, 'two');
    await type(d, 6, 'three');
    // As a crash would leave it: closing compacts the log away.
    const log = readFileSync(file('notes.log'));
    await store.close();
    log[second + 10] ^= 0xff;
    writeFileSync(file('notes.log'), log);
    store = await open();
    const err = await openLive(store, 'notes').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptFileError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_CORRUPT', file: file('notes.log'), offset: second });
    expect((err as Error).message).toContain(`offset ${second}`);
    expect(readFileSync(file('notes.log'))).toEqual(log);
  });

  it('compacts the log into a snapshot once it passes compactBytes, and loads the same text', async () => {
    let store = await open({ compactBytes: 2000 });
    const d = await openLive(store, 'notes');
    for (let i = 0; i < 300; i++) await type(d, i, String(i % 10));
    await store.close();
    expect(existsSync(file('notes.snapshot'))).toBe(true);
    expect(statSync(file('notes.log')).size).toBeLessThan(2000 + 100);
    store = await open();
    expect(textOf(await openLive(store, 'notes'))).toBe(Array.from({ length: 300 }, (_, i) => i % 10).join(''));
  });

  it('compacts once the log holds compactRecords records, however small (a reload replays them one by one)', async () => {
    const store = await open({ compactRecords: 50 });
    const d = await openLive(store, 'notes');
    for (let i = 0; i < 120; i++) await type(d, i, 'x');
    for (let i = 0; i < 100 && !existsSync(file('notes.snapshot')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(file('notes.snapshot'))).toBe(true);
    expect(d.files.history.length).toBe(0);
  });

  it('compacts when a document closes, so the next load reads one snapshot and an empty log', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    for (let i = 0; i < 20; i++) await type(d, i, 'y');
    await store.close();
    expect(statSync(file('notes.log')).size).toBe(0);
    store = await open();
    const again = await store.open('notes');
    expect(again.history).toHaveLength(1);
  });

  it('loads every update from a new snapshot beside the old log (crash before the log was emptied)', async () => {
    let store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'abc');
    await type(d, 3, 'def');
    const oldLog = readFileSync(file('notes.log'));
    await d.compact();
    await type(d, 6, 'ghi');
    await store.close();
    writeFileSync(file('notes.log'), Buffer.concat([oldLog, readFileSync(file('notes.log'))]));
    store = await open();
    expect(textOf(await openLive(store, 'notes'))).toBe('abcdefghi');
  });

  it('hands out one document object per name and validates names', async () => {
    const store = await open();
    const [a, b] = await Promise.all([store.open('same'), store.open('same')]);
    expect(a).toBe(b);
    for (const bad of ['', '.hidden', '../escape', 'a/b', 'x'.repeat(65), 'sp ace', 'nul\0']) {
      await expect(openLive(store, bad)).rejects.toBeInstanceOf(InvalidDocumentNameError);
    }
    await expect(openLive(store, 'x'.repeat(64))).resolves.toBeDefined();
    expect(readdirSync(dir).every((f) => !f.includes('escape'))).toBe(true);
  });

  it('loads a document afresh when it is opened while closing', async () => {
    const store = await open();
    const d = await openLive(store, 'notes');
    await type(d, 0, 'saved');
    const closing = d.close();
    const again = await openLive(store, 'notes');
    await closing;
    expect(again.files).not.toBe(d.files);
    expect(textOf(again)).toBe('saved');
    await expect(again.append(new Uint8Array([0, 0]))).resolves.toBeUndefined();
  });

  it('refuses a second store on the same directory with COLLAB_ERR_LOCKED', async () => {
    await open();
    await expect(DocumentStore.open({ dataDir: dir })).rejects.toMatchObject({ code: 'COLLAB_ERR_LOCKED', pid: process.pid });
  });

  it('closes idempotently and refuses appends afterwards', async () => {
    const store = await open();
    const d = await openLive(store, 'notes');
    await Promise.all([store.close(), store.close()]);
    await store.close();
    await expect(d.append(new Uint8Array([0, 0]))).rejects.toBeInstanceOf(StoreClosedError);
    await expect(openLive(store, 'notes')).rejects.toMatchObject({ code: 'COLLAB_ERR_CLOSED' });
    const reopened = await open();
    await openLive(reopened, 'notes');
  });

  it('rejects bad options with a sentence', async () => {
    await expect(DocumentStore.open({ dataDir: dir, compactBytes: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(DocumentStore.open({ dataDir: dir, textDebounceMs: -1 })).rejects.toThrow('textDebounceMs must be');
    await expect(DocumentStore.open({ dataDir: dir, busyCommitIntervalMs: Number.NaN })).rejects.toThrow('busyCommitIntervalMs must be');
    await expect(DocumentStore.open({ dataDir: '' })).rejects.toMatchObject({ code: 'COLLAB_ERR_OPTION' });
  });
});

describe('DocumentStore with lockEach (servers sharing a directory)', () => {
  let dir: string;
  const stores: DocumentStore[] = [];

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'collab-store-each-'))));
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async () => {
    const store = await DocumentStore.open({ dataDir: dir, lockEach: true, onWarning: () => undefined });
    stores.push(store);
    return store;
  };

  it('lets two stores open one directory, and each document be held by one of them at a time', async () => {
    const [a, b] = [await open(), await open()];
    const held = await a.open('shared');
    expect(existsSync(join(dir, '.shared.lock'))).toBe(true);
    await expect(b.open('shared')).rejects.toMatchObject({ code: 'COLLAB_ERR_LOCKED', document: 'shared' });
    await expect(b.open('other')).resolves.toBeDefined();
    await held.close();
    await waitUntil(() => !existsSync(join(dir, '.shared.lock')));
    await expect(b.open('shared')).resolves.toBeDefined();
  });
});

async function waitUntil(test: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
}
