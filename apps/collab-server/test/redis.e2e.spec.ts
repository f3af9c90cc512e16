// collab-server --redis, built, against a real redis-server (appendonly yes, appendfsync always):
// instances relay each other's edits and presence, an ACK means the update is in Redis's stream,
// the lease holder writes the files, and a Redis that cannot keep its promise stops the start.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as Y from 'yjs';
import { REDIS_MISSING, redisServerPath, startTestRedis, stopAllTestRedis, type TestRedis } from '@collab/testing';
import { runBuiltServerToExit, stopAll, tempDir } from './built-server';
import { eventually, startInstance, Writer } from './redis-cluster';

const haveRedis = redisServerPath() !== null;
if (!haveRedis) console.warn(`collab-server Redis tests skipped: ${REDIS_MISSING}`);
const describeWithRedis = haveRedis ? describe : describe.skip;

describeWithRedis(`collab-server --redis${haveRedis ? '' : ` (skipped: ${REDIS_MISSING})`}`, () => {
  let redis: TestRedis;
  let client: Redis;
  const writers: Writer[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
    await stopAllTestRedis();
  });
  beforeEach(() => client.flushall());
  afterEach(async () => {
    for (const w of writers.splice(0)) w.stop();
    await stopAll();
  });

  const writer = (name: string, ports: number[]) => {
    const w = new Writer(name, () => ports);
    writers.push(w);
    return w;
  };

  it('relays edits between instances, ACKs once the update is in the stream, and the lease holder writes temp.txt', async () => {
    const dataDir = tempDir();
    const a = await startInstance(redis, { dataDir });
    const b = await startInstance(redis, { dataDir });
    const [alice, bob] = [writer('alice', [a.port]), writer('bob', [b.port])];
    await alice.start();
    await bob.start();
    alice.type('from a');
    await alice.client.whenSaved();
    // The ACK came after Redis stored it: the update is in the stream now.
    const entries = await client.xrangeBuffer('collab:{temp}:stream', '-', '+');
    const inRedis = new Y.Doc();
    for (const [, fields] of entries) Y.applyUpdate(inRedis, new Uint8Array(fields[3]!));
    expect(inRedis.getText('content').toString()).toBe('from a\n');
    bob.type('from b');
    await bob.client.whenSaved();
    await eventually(() => alice.text() === bob.text() && alice.text().includes('from b'), 'both clients to hold both lines');
    // One instance holds the lease and writes the files; both share the directory.
    const holders = [a, b].filter((s) => s.output().includes('Holding the lease of temp'));
    expect(holders).toHaveLength(1);
    // FLUSH at either instance answers once the lease holder has written temp.txt with it.
    const holderWriter = holders[0] === a ? alice : bob;
    const other = holderWriter === alice ? bob : alice;
    other.type('flushed by the other');
    await other.client.whenSaved();
    await other.client.flush();
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toContain('flushed by the other\n');
    await eventually(() => alice.text() === bob.text(), 'both clients to agree');
    await holderWriter.client.flush();
    expect(existsSync(join(dataDir, 'temp.txt')) && readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe(alice.text());
  }, 30_000);

  it("shows each client's presence to the clients of the other instance, and drops it when its instance is killed", async () => {
    const a = await startInstance(redis);
    const b = await startInstance(redis);
    const [alice, bob] = [writer('alice', [a.port]), writer('bob', [b.port])];
    await alice.start();
    await bob.start();
    alice.awareness.setLocalStateField('user', { name: 'alice' });
    const aliceId = alice.awareness.clientID;
    await eventually(
      () => (bob.awareness.getStates().get(aliceId) as { user?: { name?: string } } | undefined)?.user?.name === 'alice',
      "alice's presence at bob",
    );
    a.child.kill('SIGKILL');
    // Its heartbeat expires within three seconds; b then removes what a relayed.
    await eventually(() => !bob.awareness.getStates().has(aliceId), "alice's presence to go", 10_000);
  }, 30_000);

  it('refuses to start, in one line with exit code 2, when Redis cannot be reached', async () => {
    const spare = await startTestRedis();
    const url = spare.url;
    await spare.stop();
    const { code, output } = await runBuiltServerToExit({
      args: ['--port', '0', '--ws-port', 'off', '--data-dir', tempDir(), '--redis', url],
    });
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^\\[ERROR\\] Server error: cannot reach Redis at ${url}: .*ECONNREFUSED`)),
    ]);
  });

  it('refuses to start, in one line with exit code 2, when Redis does not fsync each write; starts with a [WARN] when allowed', async () => {
    const unsafe = await startTestRedis({ appendfsync: 'everysec' });
    try {
      const args = ['--port', '0', '--ws-port', 'off', '--data-dir', tempDir(), '--redis', unsafe.url];
      const { code, output } = await runBuiltServerToExit({ args });
      expect(code).toBe(2);
      expect(output.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^\[ERROR\] Server error: Redis at .* does not keep acknowledged edits safe: appendfsync is everysec.*--redis-allow-unsafe/,
        ),
      ]);
      const allowed = await startInstance(unsafe, { args: ['--redis-allow-unsafe'] });
      expect(allowed.output()).toMatch(
        /\[WARN\] Redis at .* does not promise durability \(--redis-allow-unsafe\): appendfsync is everysec/,
      );
    } finally {
      await stopAll();
      await unsafe.stop();
    }
  });
});
