import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { SharedDocument } from '@collab/collab-core';
import { nodeFsOps } from './fs-ops';
import { writeSnapshot } from './snapshot-file';
import { DocumentStore, type StoreOptions } from './document-store';

const LIMITS = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxDocumentChars: 1024 * 1024,
  maxDocumentItems: 1024 * 1024,
  presence: { maxStateBytes: 16 * 1024, maxDepth: 16, maxIdsPerPeer: 4 },
};

/** Waits until `check` holds, at most 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('NAME.txt followed both ways (watchFiles)', () => {
  let dir: string;
  let stores: DocumentStore[] = [];
  let warnings: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collab-live-'));
    warnings = [];
  });

  afterEach(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    stores = [];
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, base = dir) => join(base, name);
  const onDisk = (name = 'notes.txt', base = dir) => (existsSync(file(name, base)) ? readFileSync(file(name, base), 'utf8') : null);

  async function open(options: Partial<StoreOptions> = {}, dataDir = dir) {
    const store = await DocumentStore.open({
      dataDir,
      watchFiles: true,
      fileSettleMs: 10,
      textDebounceMs: 10,
      onWarning: (m) => warnings.push(m),
      ...options,
    });
    stores.push(store);
    const files = await store.open('notes');
    const authors: string[] = [];
    const shared = await SharedDocument.load(files, { ...LIMITS, onChange: (_name, origin) => authors.push(origin.label) });
    const type = (text: string, at = shared.text.length) => shared.edit({ label: 'ann' }, (t) => t.insert(at, text));
    return { store, files, shared, authors, type };
  }

  /** Saves as vim, sed -i and most editors do: a new file renamed over the old one. */
  function saveByRename(text: string | Buffer, name = 'notes.txt'): void {
    writeFileSync(file(`.${name}.editor-tmp`), text);
    renameSync(file(`.${name}.editor-tmp`), file(name));
  }

  it('merges a file saved by rename while the document is open, and keeps what was typed since the file was written', async () => {
    const { shared, type, authors } = await open({ textDebounceMs: 60_000 });
    await type('first line\nsecond line\n');
    await shared.flushText();
    await type('typed after the write\n');
    // The file still holds the text as written; someone edits that.
    expect(onDisk()).toBe('first line\nsecond line\n');
    saveByRename('first line, edited\nsecond line\n');
    await until(() => shared.text.includes('edited'), 'the merge');
    expect(shared.text).toBe('first line, edited\nsecond line\ntyped after the write\n');
    expect(authors).toContain('file');
    // The file is then written with what the document holds now.
    await until(() => onDisk() === shared.text, 'the write');
    expect(warnings).toEqual([]);
  });

  it("merges an editor's stale buffer against the text it read, not the newer one written since", async () => {
    const { shared, type } = await open({ textDebounceMs: 60_000 });
    await type('title\nbody\n');
    await shared.flushText();
    const readByEditor = onDisk()!;
    await type('typed by someone else\n');
    await shared.flushText();
    await type('and more\n');
    await shared.flushText();
    saveByRename(readByEditor.replace('title', 'TITLE'));
    await until(() => shared.text.includes('TITLE'), 'the merge');
    expect(shared.text).toBe('TITLE\nbody\ntyped by someone else\nand more\n');
    expect(warnings).toEqual([]);
  });

  it('merges an append (>>) and a rewrite in place of it made before the append was recorded as merged', async () => {
    const { shared, type } = await open();
    await type('one\n');
    await shared.flushText();
    appendFileSync(file('notes.txt'), 'two\n');
    await until(() => shared.text === 'one\ntwo\n', 'the append');
    writeFileSync(file('notes.txt'), 'zero\none\ntwo\n'); // truncates and writes the same inode
    await until(() => shared.text === 'zero\none\ntwo\n', 'the rewrite');
    expect(warnings).toEqual([]);
  });

  it('never takes its own writes for outside edits', async () => {
    const { shared, type, authors } = await open({ textDebounceMs: 0 });
    for (let i = 0; i < 30; i++) {
      await type(`line ${i}\n`);
      if (i % 3 === 0) await shared.flushText();
      await new Promise((r) => setTimeout(r, 5));
    }
    await shared.flushText();
    await new Promise((r) => setTimeout(r, 100));
    expect(authors.filter((a) => a !== 'ann')).toEqual([]);
    expect(onDisk()).toBe(shared.text);
  });

  it('writes a deleted file again, with a warning', async () => {
    const { shared, type } = await open();
    await type('keep me\n');
    await shared.flushText();
    unlinkSync(file('notes.txt'));
    await until(() => onDisk() === 'keep me\n', 'the file to come back');
    expect(warnings).toEqual([expect.stringMatching(/notes\.txt was deleted; writing it again from the document/)]);
  });

  it('refuses a file that is not UTF-8, leaves it untouched until it is fixed, then merges the fix', async () => {
    const { shared, type, files } = await open();
    await type('hello\n');
    await shared.flushText();
    const broken = Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x0a]);
    saveByRename(broken);
    await until(() => warnings.length > 0, 'the warning');
    expect(warnings[0]).toMatch(/notes\.txt is not valid UTF-8: it is left untouched and not merged/);
    await type('typed meanwhile\n');
    await expect(shared.flushText()).rejects.toMatchObject({ code: 'COLLAB_ERR_TEXT_REFUSED' });
    expect(files.textRefused).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(file('notes.txt'))).toEqual(broken);
    expect(shared.text).toBe('hello\ntyped meanwhile\n');
    saveByRename('hello, fixed\n');
    await until(() => shared.text.includes('fixed'), 'the fix to merge');
    expect(shared.text).toBe('hello, fixed\ntyped meanwhile\n');
    await shared.flushText();
    expect(onDisk()).toBe('hello, fixed\ntyped meanwhile\n');
    expect(warnings).toHaveLength(1);
  });

  it('refuses a file longer than a document may be', async () => {
    const { shared, type } = await open({ maxTextChars: 20 });
    await type('short\n');
    await shared.flushText();
    saveByRename('x'.repeat(30));
    await until(() => warnings.length > 0, 'the warning');
    expect(warnings[0]).toMatch(/notes\.txt holds 30 characters, more than a document may \(20\)/);
    expect(shared.text).toBe('short\n');
    expect(onDisk()).toBe('x'.repeat(30));
  });

  it('leaves an edit saved as the server stops for the next start, which merges it three-way', async () => {
    const first = await open({ textDebounceMs: 60_000 });
    const { type } = first;
    let { store, shared } = first;
    await type('alpha\nbeta\n');
    await shared.flushText();
    await type('gamma\n'); // stored, not yet in the file
    // A copy of the directory now is what kill -9 would leave: the log has gamma, the file does not.
    const crashed = mkdtempSync(join(tmpdir(), 'collab-live-crashed-'));
    try {
      cpSync(dir, crashed, { recursive: true });
      rmSync(join(crashed, '.collab.lock'));
      writeFileSync(file('notes.txt', crashed), 'ALPHA\nbeta\n'); // edited before the server came back
      await store.close();
      ({ store, shared } = await open({}, crashed));
      expect(shared.text).toBe('ALPHA\nbeta\ngamma\n');
      expect(warnings).toEqual([expect.stringMatching(/notes\.txt was edited while the server was stopped; its difference from the text/)]);
      await store.close();
      expect(onDisk('notes.txt', crashed)).toBe('ALPHA\nbeta\ngamma\n');
      // Merged once: the next start finds the file its own.
      ({ store, shared } = await open({}, crashed));
      expect(shared.text).toBe('ALPHA\nbeta\ngamma\n');
      expect(warnings).toHaveLength(1);
      await store.close();
    } finally {
      rmSync(crashed, { recursive: true, force: true });
    }
  });

  /**
   * Writes "one two" to the file, types "three" after it, compacts (the base goes to NAME.base),
   * and opens a copy of the directory whose file was edited to "one 2" while stopped, after
   * `prepare(copy, stateAtBase)`; resolves with the text the copy loads.
   */
  async function compactedThenEdited(prepare: (copy: string, stateAtBase: Uint8Array) => Promise<void> = async () => undefined) {
    const first = await open({ textDebounceMs: 60_000 });
    const { type, files } = first;
    let { store, shared } = first;
    await type('one\ntwo\n');
    await shared.flushText();
    const stateAtBase = Y.encodeStateAsUpdate(shared.doc);
    await type('three\n');
    await files.compact();
    expect(existsSync(file('notes.base'))).toBe(true);
    const crashed = mkdtempSync(join(tmpdir(), 'collab-live-crashed-'));
    try {
      cpSync(dir, crashed, { recursive: true });
      rmSync(join(crashed, '.collab.lock'));
      await prepare(crashed, stateAtBase);
      writeFileSync(file('notes.txt', crashed), 'one\n2\n');
      await store.close();
      ({ store, shared } = await open({}, crashed));
      const text = shared.text;
      await store.close();
      return text;
    } finally {
      rmSync(crashed, { recursive: true, force: true });
    }
  }

  it('finds the base after a compaction emptied the log it was in (NAME.base)', async () => {
    expect(await compactedThenEdited()).toBe('one\n2\nthree\n');
  });

  it('reads a NAME.base written by earlier versions (the whole state at the base)', async () => {
    const text = await compactedThenEdited(async (copy, stateAtBase) => {
      // As earlier versions left it: NAME.base holds the state, and NAME.meta says `baseFile`.
      await writeSnapshot(nodeFsOps, file('notes.base', copy), stateAtBase);
      const meta = JSON.parse(readFileSync(file('notes.meta', copy), 'utf8')) as { bases: Record<string, unknown> };
      for (const sha of Object.keys(meta.bases)) meta.bases[sha] = { baseFile: createHash('sha256').update(stateAtBase).digest('hex') };
      writeFileSync(file('notes.meta', copy), JSON.stringify(meta));
    });
    expect(text).toBe('one\n2\nthree\n');
    expect(warnings).toEqual([expect.stringMatching(/its difference from the text the server last wrote/)]);
  });

  it('follows nothing with watchFiles off, and merges the edit at the next load', async () => {
    const first = await open({ watchFiles: false });
    const { type } = first;
    let { store, shared } = first;
    await type('a\n');
    await shared.flushText();
    saveByRename('b\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(shared.text).toBe('a\n');
    // A client edit does not overwrite it either: it is found before the write, and merged.
    await type('c\n');
    await shared.flushText();
    expect(shared.text).toBe('b\nc\n');
    await store.close();
    ({ store, shared } = await open({ watchFiles: false }));
    expect(shared.text).toBe('b\nc\n');
  });
});
