// Faults of a Redis scale-out, each for real: kill -9 of an instance under load, kill -9 of Redis
// and its restart from the AOF, the lease holder killed while it folds, and a lease holder that
// stalls (SIGSTOP) past its lease. Each ends with every acknowledged line in every client's
// document and in temp.txt, written by whichever instance holds the lease at the end.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_MISSING, redisServerPath, startTestRedis, stopAllTestRedis, type TestRedis } from '@collab/testing';
import { stopAll, tempDir, withoutEdits, type BuiltServer } from './built-server';
import { eventually, expectAllAcked, startInstance, Writer } from './redis-cluster';

const haveRedis = redisServerPath() !== null;
if (!haveRedis) console.warn(`collab-server Redis fault tests skipped: ${REDIS_MISSING}`);
const describeWithRedis = haveRedis ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedis(`Redis scale-out faults${haveRedis ? '' : ` (skipped: ${REDIS_MISSING})`}`, () => {
  let redis: TestRedis;
  const writers: Writer[] = [];

  beforeEach(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    for (const w of writers.splice(0)) w.stop();
    await stopAll();
    await redis.stop();
    await stopAllTestRedis();
  });

  /** Writers: `count` on each instance, each preferring its own and falling back on the others. */
  async function startWriters(instances: BuiltServer[], count: number): Promise<Writer[]> {
    const made: Writer[] = [];
    instances.forEach((home, i) => {
      for (let c = 0; c < count; c++) {
        const order = [home, ...instances.filter((s) => s !== home)];
        const w = new Writer(`i${i}w${c}`, () =>
          order.filter((s) => s.child.exitCode === null && s.child.signalCode === null).map((s) => s.port),
        );
        made.push(w);
      }
    });
    writers.push(...made);
    await Promise.all(made.map((w) => w.start()));
    return made;
  }

  /** Stops typing, waits for every ACK and for the clients to agree; returns the text. */
  async function settle(all: Writer[], typing: Promise<void>[], stop: () => void): Promise<string> {
    stop();
    await Promise.all(typing);
    await Promise.all(all.map((w) => w.client.whenSaved()));
    await eventually(() => all.every((w) => w.text() === all[0]!.text()), 'the clients to agree', 30_000);
    return all[0]!.text();
  }

  const lines = (dataDir: string) => readFileSync(join(dataDir, 'temp.txt'), 'utf8');

  it('loses nothing acknowledged when an instance is killed with SIGKILL under load; its clients go on elsewhere', async () => {
    const dataDir = tempDir();
    const a = await startInstance(redis, { dataDir, args: ['--redis-lease', '1'] });
    const b = await startInstance(redis, { dataDir, args: ['--redis-lease', '1'] });
    const all = await startWriters([a, b], 3);
    let go = true;
    const typing = all.map((w) => w.typeWhile(() => go));
    await sleep(1000);
    a.child.kill('SIGKILL');
    await sleep(1500);
    const text = await settle(all, typing, () => (go = false));
    expect(expectAllAcked(all, text)).toBeGreaterThan(100);
    // b took a's lease over (a's lock file is stale) and writes the files from then on.
    await eventually(() => b.output().includes('Holding the lease of temp'), 'b to take the lease');
    expect(await b.stop()).toBe(0);
    expect(lines(dataDir)).toBe(text);
  }, 60_000);

  it('loses nothing acknowledged when Redis is killed with SIGKILL and restarted from its AOF; no ACK while it is down', async () => {
    const dataDir = tempDir();
    const a = await startInstance(redis, { dataDir });
    const b = await startInstance(redis, { dataDir });
    const all = await startWriters([a, b], 2);
    let go = true;
    const typing = all.map((w) => w.typeWhile(() => go));
    await sleep(800);
    await redis.kill();
    await sleep(100);
    const ackedWhenKilled = all.reduce((n, w) => n + w.acked.size, 0);
    await sleep(1000);
    // Nothing is acknowledged that Redis has not stored.
    expect(all.reduce((n, w) => n + w.acked.size, 0)).toBe(ackedWhenKilled);
    await redis.restart();
    await sleep(800);
    const text = await settle(all, typing, () => (go = false));
    expect(expectAllAcked(all, text)).toBeGreaterThan(ackedWhenKilled);
    expect(a.output()).toMatch(/\[WARN\] Redis at .* is unreachable/);
    // A new instance finds every acknowledged line in Redis (the AOF kept what Redis ACKed).
    const c = await startInstance(redis, { dataDir: tempDir() });
    const late = new Writer('late', () => [c.port]);
    writers.push(late);
    await late.start();
    await eventually(() => late.text() === text, 'a new instance to load the whole document from Redis');
    for (const s of [a, b, c]) expect(await s.stop()).toBe(0);
    expect(lines(dataDir)).toBe(text);
  }, 60_000);

  it('loses nothing when the lease holder is killed while it folds the stream into the files; the next holder catches up', async () => {
    const dataDir = tempDir();
    const args = ['--redis-lease', '1', '--redis-trim-entries', '20'];
    const a = await startInstance(redis, { dataDir, args });
    const holderWriter = new Writer('first', () => [a.port]);
    writers.push(holderWriter);
    await holderWriter.start(); // a opens temp first: it holds the lease
    const b = await startInstance(redis, { dataDir, args });
    const all = await startWriters([b], 4);
    let go = true;
    const typing = all.map((w) => w.typeWhile(() => go, 3000, 5));
    await sleep(1200);
    expect(a.output()).toContain('Holding the lease of temp');
    a.child.kill('SIGKILL');
    await eventually(() => b.output().includes('Holding the lease of temp'), 'b to take the lease', 10_000);
    await sleep(500);
    const text = await settle(all, typing, () => (go = false));
    expect(expectAllAcked(all, text)).toBeGreaterThan(100);
    expect(await b.stop()).toBe(0);
    expect(lines(dataDir)).toBe(text);
    // The stream was trimmed (to what the files held), and Redis still holds the whole document.
    const client = new Redis(redis.url);
    try {
      expect(await client.xlen('collab:{temp}:stream')).toBeLessThan(text.split('\n').length);
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('goes on when the lease holder stalls past its lease (SIGSTOP): another instance takes over, the stalled one stops writing once it wakes', async () => {
    const dataDir = tempDir();
    const args = ['--redis-lease', '1'];
    const a = await startInstance(redis, { dataDir, args });
    const first = new Writer('first', () => [a.port]);
    writers.push(first);
    await first.start();
    const b = await startInstance(redis, { dataDir, args });
    const all = await startWriters([b], 3);
    let go = true;
    const typing = all.map((w) => w.typeWhile(() => go));
    await sleep(500);
    process.kill(a.pid, 'SIGSTOP');
    try {
      const before = all.reduce((n, w) => n + w.acked.size, 0);
      await sleep(2500);
      // b's clients are served (and ACKed) while a is stalled, and b holds the lease now.
      expect(all.reduce((n, w) => n + w.acked.size, 0)).toBeGreaterThan(before + 20);
      expect(b.output()).toContain('Holding the lease of temp');
    } finally {
      process.kill(a.pid, 'SIGCONT');
    }
    await a.waitForOutput('Lost the lease of temp', 10_000);
    // a let go of the files (closing them); b, holding the lease, writes them from then on.
    await b.waitForOutput('Writing temp into the data directory from now on', 10_000).catch((error: Error) => {
      throw new Error(`${error.message}\n\nand the stalled instance printed:\n${withoutEdits(a.output()).slice(-3000)}`);
    });
    first.type('after the stall');
    await sleep(500);
    const text = await settle([...all, first], typing, () => (go = false));
    expectAllAcked([...all, first], text);
    expect(text).toContain('after the stall\n');
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(lines(dataDir)).toBe(text);
  }, 60_000);
});
