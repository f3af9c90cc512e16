// RedisStorage against a real redis-server (started per suite in a temporary directory, with
// appendonly yes and appendfsync always): the stream, the ACK after XADD, the lease holder's
// fold into the files, the trim only up to what is on disk, and seeding from the files once.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Redis } from 'ioredis';
import type { LiveDocumentView } from '@collab/collab-core';
import { DocumentStore } from '@collab/persistence';
import { REDIS_MISSING, redisServerPath, startTestRedis, waitFor, type TestRedis } from '@collab/testing';
import { RedisStorage, type RedisStorageOptions } from './redis-storage';
import { documentKeys } from './redis-keys';
import type { RedisDocument } from './redis-document';

const haveRedis = redisServerPath() !== null;
if (!haveRedis) console.warn(`redis-storage tests skipped: ${REDIS_MISSING}`);
const describeWithRedis = haveRedis ? describe : describe.skip;

/** A live document as the core keeps it: a Y.Doc the storage reads and feeds through the view. */
class LiveDoc {
  readonly doc = new Y.Doc();
  readonly remoteUpdates: string[] = [];
  readonly view: LiveDocumentView = {
    encodeState: () => Y.encodeStateAsUpdate(this.doc),
    encodeSnapshot: () => Y.encodeSnapshot(Y.snapshot(this.doc)),
    text: () => this.text(),
    applyStoredUpdate: (update, origin) => {
      this.remoteUpdates.push(origin);
      Y.applyUpdate(this.doc, update);
      this.stored.changed();
    },
    mergeOutsideText: () => Promise.reject(new Error('not in these tests')),
    applyRemotePresence: () => undefined,
    dropRemotePresence: () => undefined,
    localPresence: () => null,
  };

  constructor(readonly stored: RedisDocument) {
    for (const update of stored.history) Y.applyUpdate(this.doc, update);
  }

  text(): string {
    return this.doc.getText('content').toString();
  }

  /** Types at the end, as a client would, and appends the update (resolves on the ACK). */
  type(text: string): Promise<void> {
    let update: Uint8Array | undefined;
    const capture = (u: Uint8Array) => (update = u);
    this.doc.on('update', capture);
    const t = this.doc.getText('content');
    t.insert(t.length, text);
    this.doc.off('update', capture);
    const stored = this.stored.append(update!);
    this.stored.changed();
    return stored;
  }
}

describeWithRedis('RedisStorage on a real redis-server', () => {
  let redis: TestRedis;
  let client: Redis;
  const dirs: string[] = [];
  const storages: RedisStorage[] = [];
  let warnings: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });
  beforeEach(async () => {
    await client.flushall();
    warnings = [];
  });
  afterEach(async () => {
    for (const s of storages.splice(0)) await s.close().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'collab-redis-storage-'));
    dirs.push(dir);
    return dir;
  };
  const open = async (dataDir: string, options: Partial<RedisStorageOptions> = {}) => {
    const storage = await RedisStorage.open({
      url: redis.url,
      files: { dataDir, textDebounceMs: 0, onWarning: (m) => warnings.push(m) },
      warn: (m) => warnings.push(m),
      ...options,
    });
    storages.push(storage);
    return storage;
  };
  const load = async (storage: RedisStorage, name = 'doc') => {
    const stored = await storage.open(name);
    const live = new LiveDoc(stored);
    await stored.attach(live.view);
    return live;
  };
  const streamTexts = async (name = 'doc') => {
    const entries = await client.xrangeBuffer(documentKeys(name).stream, '-', '+');
    return entries.length;
  };

  it('acknowledges an update once it is in the stream, and the other instance applies it', async () => {
    const dir = tempDir();
    const [a, b] = [await load(await open(dir)), await load(await open(dir))];
    await a.type('hello ');
    expect(await streamTexts()).toBe(1);
    await b.type('world');
    await waitFor(() => a.text() === 'hello world' && b.text() === 'hello world', 'both instances to hold both edits');
    expect(a.remoteUpdates).toHaveLength(1);
    expect(b.remoteUpdates).toHaveLength(1);
  });

  it('has one lease holder, which folds every update into the files of its data directory', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await load(await open(dirA));
    const b = await load(await open(dirB));
    expect(a.stored.holdsLease).toBe(true);
    expect(b.stored.holdsLease).toBe(false);
    await b.type('typed on b');
    await waitFor(() => a.text() === 'typed on b', 'a to get the edit');
    await a.stored.flushText();
    expect(readFileSync(join(dirA, 'doc.txt'), 'utf8')).toBe('typed on b');
    expect(() => readFileSync(join(dirB, 'doc.txt'))).toThrow();
  });

  it('folds entries read together into the files with one commit, not one per entry', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await load(await open(dirA));
    const b = await load(await open(dirB));
    expect(a.stored.holdsLease).toBe(true);
    await b.type('first');
    await waitFor(() => a.text() === 'first', 'a to get the first edit');
    await a.stored.flushText();
    const before = a.stored.foldSyncCount;
    // 400 edits at once: a reads them in a few batches. One fdatasync per entry (the fold waiting
    // for each commit before the next append) took seconds here and fell behind any faster typing.
    const edits = Array.from({ length: 400 }, (_, i) => b.type(`,${i}`));
    await Promise.all(edits);
    await waitFor(() => a.text() === b.text(), 'a to get every edit');
    await a.stored.flushText();
    expect(a.stored.foldSyncCount - before).toBeLessThan(40);
    expect(readFileSync(join(dirA, 'doc.txt'), 'utf8')).toBe(b.text());
  });

  it('trims the stream only up to what the files hold, after a snapshot in Redis that covers it', async () => {
    const dir = tempDir();
    const storage = await open(dir, { trimEntries: 5 });
    const a = await load(storage);
    for (let i = 0; i < 23; i++) await a.type(`${i},`);
    const keys = documentKeys('doc');
    // The fold (and so the trim) follows the ACKs: the files commit a few milliseconds later.
    for (let i = 0; i < 200 && !(await client.hexists(keys.snapshot, 'id')); i++) await new Promise((r) => setTimeout(r, 10));
    // Read together: a trim may come between two reads.
    const [[, snapshotReply], [, leftReply]] = (await client
      .multi()
      .hgetallBuffer(keys.snapshot)
      .xrangeBuffer(keys.stream, '-', '+')
      .exec())!;
    const snapshot = snapshotReply as Record<string, Buffer>;
    const left = leftReply as Array<[Buffer, Buffer[]]>;
    expect(snapshot.id).toBeDefined();
    expect(left.length).toBeLessThan(23);
    // Everything trimmed is in the files: read them as they are on disk now (a copy, the lock is held).
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith('.lock') });
    const store = await DocumentStore.open({ dataDir: copy, onWarning: () => undefined });
    const files = await store.open('doc');
    const fromFiles = new Y.Doc();
    for (const u of files.history) Y.applyUpdate(fromFiles, u);
    await store.close();
    const onDisk = fromFiles.getText('content').toString();
    // The snapshot plus what is left of the stream is the whole document, and the files hold all the trimmed entries.
    const rebuilt = new Y.Doc();
    Y.applyUpdate(rebuilt, new Uint8Array(snapshot.state!));
    for (const [, fields] of left) Y.applyUpdate(rebuilt, new Uint8Array(fields[3]!));
    expect(rebuilt.getText('content').toString()).toBe(a.text());
    const trimmedCount = 23 - left.length;
    const trimmedText = Array.from({ length: trimmedCount }, (_, i) => `${i},`).join('');
    expect(onDisk.startsWith(trimmedText)).toBe(true);
  });

  it('seeds Redis from the files exactly once, however many instances open the document at once', async () => {
    const dir = tempDir();
    const store = await DocumentStore.open({ dataDir: dir });
    const files = await store.open('doc');
    const made = new Y.Doc();
    made.getText('content').insert(0, 'from the files\n');
    await files.append(Y.encodeStateAsUpdate(made));
    await store.close();
    const storages = [await open(dir), await open(dir), await open(dir)];
    const lives = await Promise.all(storages.map((s) => load(s)));
    for (const live of lives) expect(live.text()).toBe('from the files\n');
    expect(await streamTexts()).toBe(1);
    // A later instance (and a restart) finds it in Redis and does not seed again.
    const late = await load(await open(tempDir()));
    expect(late.text()).toBe('from the files\n');
    expect(await streamTexts()).toBe(1);
  });

  it('hands the lease over when its holder closes the document, and the new holder brings its files level', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await load(await open(dirA, { leaseMs: 300 }));
    const b = await load(await open(dirB, { leaseMs: 300 }));
    await a.type('first ');
    await a.stored.close();
    await waitFor(() => b.stored.holdsLease, 'b to take the lease', 5000);
    await b.type('second');
    await waitFor(() => {
      try {
        return readFileSync(join(dirB, 'doc.txt'), 'utf8') === 'first second';
      } catch {
        return false;
      }
    }, "b's files to hold the whole document");
  });

  it('opens a document again after it closed (unloaded), with everything in it, also when asked for while it closes', async () => {
    const storage = await open(tempDir());
    const a = await load(storage);
    await a.type('kept');
    const closing = a.stored.close();
    const again = await load(storage);
    await closing;
    expect(again.stored).not.toBe(a.stored);
    expect(again.text()).toBe('kept');
    expect(again.stored.holdsLease).toBe(true);
  });

  it('refuses a Redis that does not fsync every write, naming what may be lost; warns instead when allowed', async () => {
    const unsafe = await startTestRedis({ appendfsync: 'everysec' });
    try {
      const options = { url: unsafe.url, files: { dataDir: tempDir() }, warn: (m: string) => warnings.push(m) };
      await expect(RedisStorage.open(options)).rejects.toMatchObject({
        code: 'COLLAB_ERR_REDIS_NOT_DURABLE',
        message: expect.stringMatching(/appendfsync is everysec: an acknowledged edit may not be on its disk yet/),
      });
      const allowed = await RedisStorage.open({ ...options, allowUnsafe: true });
      await allowed.close();
      expect(warnings.join('\n')).toMatch(/does not promise durability \(--redis-allow-unsafe\): appendfsync is everysec/);
    } finally {
      await unsafe.stop();
    }
  });

  it('refuses a Redis whose CONFIG command is disabled: nothing says it is durable', async () => {
    const hidden = await startTestRedis({ args: ['--rename-command', 'CONFIG', ''] });
    try {
      await expect(RedisStorage.open({ url: hidden.url, files: { dataDir: tempDir() }, warn: () => undefined })).rejects.toMatchObject({
        code: 'COLLAB_ERR_REDIS_NOT_DURABLE',
        message: expect.stringMatching(/settings cannot be read \(CONFIG GET failed/),
      });
    } finally {
      await hidden.stop();
    }
  });

  it('says in one sentence that Redis cannot be reached', async () => {
    const spare = await startTestRedis();
    const url = spare.url;
    await spare.stop();
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const timersBefore = timers();
    await expect(
      RedisStorage.open({ url, files: { dataDir: tempDir() }, warn: () => undefined, connectTimeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: 'COLLAB_ERR_REDIS_UNREACHABLE',
      message: expect.stringMatching(new RegExp(`^cannot reach Redis at ${url}: .*ECONNREFUSED`)),
    });
    // Nothing is left to keep a server that gives up from exiting (ioredis's disconnect() of the
    // dead connection set a 2 s timer, so collab-server took 2 s to exit).
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });
});
