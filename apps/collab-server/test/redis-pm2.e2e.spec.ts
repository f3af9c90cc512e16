// ecosystem.config.js with COLLAB_REDIS_URL: collab-server in PM2's cluster mode, two instances on
// one port sharing one data directory, against a real redis-server. Connections are spread over
// both; one instance killed with SIGKILL under load is restarted by PM2, its clients reconnect to
// the port (the other instance), and nothing acknowledged is lost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Pm2Sandbox, REDIS_MISSING, redisServerPath, startTestRedis, type TestRedis } from '@collab/testing';
import { eventually, expectAllAcked, Writer } from './redis-cluster';

const haveRedis = redisServerPath() !== null;
if (!haveRedis) console.warn(`collab-server PM2 cluster tests skipped: ${REDIS_MISSING}`);
const itWithRedis = haveRedis ? it : it.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pm2: Pm2Sandbox | undefined;
let redis: TestRedis | undefined;
let dataDir: string;
const writers: Writer[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-cluster-'));
});

afterAll(async () => {
  for (const w of writers) w.stop();
  await pm2?.kill();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

itWithRedis(
  `runs a cluster of two instances on one port under PM2, and survives kill -9 of one under load${haveRedis ? '' : ` (skipped: ${REDIS_MISSING})`}`,
  async () => {
    redis = await startTestRedis();
    const port = await freePort();
    pm2 = new Pm2Sandbox({
      COLLAB_REDIS_URL: redis.url,
      COLLAB_INSTANCES: '2',
      COLLAB_PORT: String(port),
      COLLAB_HOST: '127.0.0.1',
      COLLAB_WS_PORT: 'off',
      COLLAB_CWD: dataDir,
      COLLAB_REDIS_LEASE: '1',
      LOG_LEVEL: 'info',
    });
    await pm2.start('collab-server');
    await eventually(
      async () => {
        const all = await pm2!.instances('collab-server');
        return all.length === 2 && all.every((i) => i.status === 'online');
      },
      'two instances online',
      30_000,
    );
    for (let c = 0; c < 6; c++) writers.push(new Writer(`w${c}`, () => [port]));
    await Promise.all(writers.map((w) => w.start()));
    let go = true;
    const typing = writers.map((w) => w.typeWhile(() => go));
    await sleep(1000);
    // Round robin: both instances have clients.
    const before = await pm2.instances('collab-server');
    for (const instance of before) expect(readFileSync(instance.outLog, 'utf8')).toContain('New client connected');
    process.kill(before[0]!.pid, 'SIGKILL');
    await eventually(
      async () => {
        const all = await pm2!.instances('collab-server');
        return all.length === 2 && all.every((i) => i.status === 'online' && i.pid > 0 && i.pid !== before[0]!.pid);
      },
      'PM2 to restart the killed instance',
      30_000,
    );
    await sleep(1000);
    go = false;
    await Promise.all(typing);
    await Promise.all(writers.map((w) => w.client.whenSaved()));
    await eventually(() => writers.every((w) => w.text() === writers[0]!.text()), 'the clients to agree');
    const text = writers[0]!.text();
    expect(expectAllAcked(writers, text)).toBeGreaterThan(100);
    // A graceful stop of both: the lease holder writes temp.txt whole.
    await pm2.pm2('stop', 'collab-server');
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe(text);
  },
  120_000,
);
