// `npm run bench redis`: the Redis scale-out with 1, 2 and 3 instances on the same workload, side by
// side with Hocuspocus and its Redis extension (@hocuspocus/extension-redis) in the same run.
// Each configuration gets a fresh redis-server (appendonly yes, appendfsync always: what
// collab-server requires), N server processes, and the same clients spread over them in turn;
// the clients type markers at a fixed total rate, every client integrates every update (a real
// editor does), and each marker's time to reach every other client is recorded.
// Reported: edits/s delivered to everyone, edit -> all peers p50/p99, server CPU per edit (all
// instances), Redis CPU per edit, and for ours the time to the ACK (stored in Redis).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { freePort, redisServerPath, startTestRedis, waitForPort, REDIS_MISSING, type TestRedis } from '@collab/testing';
import { table, percentileOf, progress, progressDone } from './bench-table';
import { connectOurs, BENCH_DOCUMENT } from './collab-clients';
import { procCpuSeconds } from './proc-stats';

const INSTANCES = (process.env['COLLAB_BENCH_INSTANCES'] ?? '1,2,3').split(',').map(Number);
const CLIENTS = Number(process.env['COLLAB_BENCH_REDIS_CLIENTS'] ?? 12);
const RATES = (process.env['COLLAB_BENCH_REDIS_RATES'] ?? '200,1000').split(',').map(Number);
const SECONDS = Number(process.env['COLLAB_BENCH_REDIS_SECONDS'] ?? 4);
const DRAIN_MS = 5000;
const TICK_MS = 10;
const root = process.cwd();
const OUR_SERVER = join(root, 'dist', 'apps', 'collab-server', 'main.js');
const HOCUS_SERVER = join(root, 'bench', 'hocuspocus-redis-server.mjs');
const MARK = /\[(\d+):(\d+)\]/g;

type Kind = 'ours' | 'hocuspocus';
const LABEL: Record<Kind, string> = { ours: 'collab-server --redis', hocuspocus: 'Hocuspocus + extension-redis' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface Instance {
  child: ChildProcess;
  port: number;
}

async function startInstance(kind: Kind, redis: TestRedis, dataDir: string): Promise<Instance> {
  const port = await freePort('127.0.0.1');
  const args =
    kind === 'ours'
      ? [
          OUR_SERVER,
          ...['--host', '127.0.0.1', '--port', String(port), '--ws-port', 'off', '--data-dir', dataDir, '--redis', redis.url],
          ...['--max-clients', '1000', '--max-edits-per-second', '100000', '--log-level', 'warn'],
          ...(process.env['COLLAB_BENCH_SERVER_ARGS'] ?? '').split(' ').filter(Boolean),
        ]
      : [HOCUS_SERVER, String(port), String(redis.port)];
  const child = spawn(process.execPath, args, { cwd: dataDir, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  child.on('exit', () => children.delete(child));
  await waitForPort(port, { stillAlive: () => child.exitCode === null, timeoutMs: 20_000 }).catch((error: Error) => {
    throw new Error(`${LABEL[kind]} did not start: ${error.message}\n${errors}`);
  });
  return { child, port };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  instance.child.kill('SIGTERM');
  await Promise.race([once(instance.child, 'exit'), sleep(8000)]);
  instance.child.kill('SIGKILL');
}

interface Client {
  doc: Y.Doc;
  acked(): number;
  onAck(listener: (n: number) => void): void;
  close(): void;
}

async function connectClient(kind: Kind, port: number, name: string): Promise<Client> {
  const doc = new Y.Doc();
  if (kind === 'ours') {
    const c = await connectOurs({ port, doc, name });
    return { doc, acked: () => c.changesAcked(), onAck: (l) => c.onAck(l), close: () => c.close() };
  }
  const socket = new HocuspocusProviderWebsocket({ url: `ws://127.0.0.1:${port}`, WebSocketPolyfill: WebSocket });
  const provider = new HocuspocusProvider({ websocketProvider: socket, name: BENCH_DOCUMENT, document: doc });
  (provider as unknown as { attach?: () => void }).attach?.();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Hocuspocus client did not sync within 10 s')), 10_000);
    if (provider.isSynced) {
      clearTimeout(timer);
      resolve();
      return;
    }
    provider.on('synced', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    doc,
    acked: () => 0,
    onAck: () => undefined,
    close: () => {
      provider.destroy();
      socket.destroy();
    },
  };
}

interface Result {
  kind: Kind;
  instances: number;
  rate: number;
  delivered: number;
  sent: number;
  seconds: number;
  p50: number;
  p99: number;
  ackP99: number | null;
  serverCpuPerEdit: number;
  redisCpuPerEdit: number;
  serverCpuShare: number;
  redisCpuShare: number;
}

async function run(kind: Kind, instances: number, rate: number): Promise<Result> {
  const redis = await startTestRedis();
  const dataDir = mkdtempSync(join(tmpdir(), 'collab-bench-redis-'));
  const servers: Instance[] = [];
  const clients: Client[] = [];
  try {
    for (let i = 0; i < instances; i++) servers.push(await startInstance(kind, redis, dataDir));
    for (let c = 0; c < CLIENTS; c++) clients.push(await connectClient(kind, servers[c % instances]!.port, `b${c}`));
    const sentAt = new Map<string, number>();
    const seen = new Map<string, number>();
    const latencies: number[] = [];
    const ackLatencies: number[] = [];
    let delivered = 0;
    clients.forEach((client, c) => {
      client.doc.getText('content').observe((event) => {
        if (event.transaction.local) return;
        const now = performance.now();
        for (const d of event.delta) {
          if (typeof d.insert !== 'string') continue;
          for (const m of d.insert.matchAll(MARK)) {
            const key = `${m[1]}:${m[2]}`;
            if (Number(m[1]) === c) continue;
            const count = (seen.get(key) ?? 0) + 1;
            seen.set(key, count);
            if (count === CLIENTS - 1) {
              latencies.push(now - sentAt.get(key)!);
              delivered++;
              seen.delete(key);
            }
          }
        }
      });
    });
    const ackWaiters = clients.map(() => [] as Array<{ n: number; at: number }>);
    clients.forEach((client, c) =>
      client.onAck((n) => {
        const now = performance.now();
        const waiting = ackWaiters[c]!;
        while (waiting.length && waiting[0]!.n <= n) ackLatencies.push(now - waiting.shift()!.at);
      }),
    );
    let sentChanges = clients.map(() => 0);
    if (kind === 'ours') sentChanges = clients.map((c) => c.acked());
    await sleep(500);
    const pids = servers.map((s) => s.child.pid!);
    const cpu0 = pids.reduce((n, pid) => n + procCpuSeconds(pid), 0);
    const redisCpu0 = procCpuSeconds(redis.pid);
    const start = performance.now();
    let sent = 0;
    let next = 0;
    while (performance.now() - start < SECONDS * 1000) {
      // As many as the rate asks for by now (timers fire late under load; the rate holds anyway).
      const due = Math.floor((rate * (performance.now() - start)) / 1000);
      for (; sent < due;) {
        const c = next++ % CLIENTS;
        const key = `${c}:${sent}`;
        const text = clients[c]!.doc.getText('content');
        sentAt.set(key, performance.now());
        text.insert(text.length, `[${key}]`);
        sentChanges[c]!++;
        ackWaiters[c]!.push({ n: sentChanges[c]!, at: performance.now() });
        sent++;
      }
      await sleep(TICK_MS);
    }
    const elapsed = (performance.now() - start) / 1000;
    const until = performance.now() + DRAIN_MS;
    while (delivered < sent && performance.now() < until) await sleep(20);
    const cpu = pids.reduce((n, pid) => n + procCpuSeconds(pid), 0) - cpu0;
    const redisCpu = procCpuSeconds(redis.pid) - redisCpu0;
    const wall = (performance.now() - start) / 1000;
    return {
      kind,
      instances,
      rate,
      delivered,
      sent,
      seconds: elapsed,
      p50: latencies.length ? percentileOf(latencies, 50) : NaN,
      p99: latencies.length ? percentileOf(latencies, 99) : NaN,
      ackP99: kind === 'ours' && ackLatencies.length ? percentileOf(ackLatencies, 99) : null,
      serverCpuPerEdit: (cpu / Math.max(1, delivered)) * 1e6,
      redisCpuPerEdit: (redisCpu / Math.max(1, delivered)) * 1e6,
      serverCpuShare: cpu / wall,
      redisCpuShare: redisCpu / wall,
    };
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await stopInstance(s);
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!redisServerPath()) {
    console.log(`skipped: ${REDIS_MISSING}`);
    return;
  }
  console.log(
    `${CLIENTS} clients spread over the instances in turn, each integrating every update; offered ${RATES.join(' and ')} edits/s for ${SECONDS} s each; a fresh redis-server (appendfsync always) per row`,
  );
  const results: Result[] = [];
  for (const rate of RATES) {
    for (const n of INSTANCES) {
      for (const kind of ['ours', 'hocuspocus'] as const) {
        progress(`${LABEL[kind]}, ${n} instance(s), ${rate} edits/s`);
        results.push(await run(kind, n, rate));
      }
    }
  }
  progressDone();
  const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  console.log(
    table(
      [
        'server',
        'instances',
        'offered/s',
        'delivered/s',
        'all peers p50 ms',
        'p99 ms',
        'ACK p99 ms',
        'server CPU/edit us',
        'Redis CPU/edit us',
        'server CPU',
        'Redis CPU',
      ],
      results.map((r) => [
        LABEL[r.kind],
        String(r.instances),
        String(r.rate),
        f(r.delivered / r.seconds, 0) + (r.delivered < r.sent ? ` (${r.sent - r.delivered} late)` : ''),
        f(r.p50),
        f(r.p99),
        r.ackP99 === null ? '-' : f(r.ackP99),
        f(r.serverCpuPerEdit, 0),
        f(r.redisCpuPerEdit, 0),
        `${f(r.serverCpuShare * 100, 0)}%`,
        `${f(r.redisCpuShare * 100, 0)}%`,
      ]),
    ),
  );
  console.log('\nRatios ours / Hocuspocus (same instances, same offered rate):');
  const rows: string[][] = [];
  for (const rate of RATES) {
    for (const n of INSTANCES) {
      const ours = results.find((r) => r.kind === 'ours' && r.instances === n && r.rate === rate)!;
      const hocus = results.find((r) => r.kind === 'hocuspocus' && r.instances === n && r.rate === rate)!;
      rows.push([
        `${n} instance(s), ${rate}/s`,
        `${f(ours.p99 / hocus.p99, 2)}x`,
        `${f(ours.serverCpuPerEdit / hocus.serverCpuPerEdit, 2)}x`,
        `${f(ours.redisCpuPerEdit / hocus.redisCpuPerEdit, 2)}x`,
      ]);
    }
  }
  console.log(table(['configuration', 'all peers p99', 'server CPU/edit', 'Redis CPU/edit'], rows));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench redis failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
