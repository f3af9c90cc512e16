// Collab bench: our collab-server (built, as deployed, storing and fsyncing every edit before its
// ACK) against the y-websocket server (@y/websocket-server, in memory, no persistence), both in
// their own processes, driven by the same clients in this process with the same Yjs workload:
// N clients on one document typing single characters at random positions. Our server is measured
// twice: over TCP with our own client, and on its WebSocket port with the very client that drives
// y-websocket (y-protocols over `ws`), so that transport is compared like for like.
//
// Per client count, the three run at once (fresh processes and documents), each with its own N
// clients, and are measured in alternating 1 s slices (ABC, then CBA) so that other load on the
// machine hits them alike; between slices every edit in flight is let through. After a warm-up
// slice at the steady load of 2:
//  1. latency at a fixed offered rate, below what either server sustains: the clients together
//     type RATE_TOTAL characters a second, evenly, at random phases (open loop), RATE_SLICES
//     slices; latency is from the moment an edit is made to the moment the last peer has it;
//  2. cost per edit at a steady load both servers sustain (issue targets: 10 clients at 2,000
//     edits/s, 100 clients at 1,000): server CPU per edit, p99 edit-to-every-peer, in LOAD_SLICES
//     slices each, and whether each ratio meets its target;
//  3. the server's peak memory so far: until here every server was sent the very same edits;
//  4. sustained edits/s, closed loop: every client keeps WINDOW edits in flight, "in flight"
//     meaning not yet received by every other client; when an edit reaches its last peer, its
//     author types the next one. The server is never idle and the figure is the rate at which
//     edits come out at the other end: the median over SLICES slices, after a warm-up slice
//     (a faster server is sent more edits here, and ends with a longer document);
//  5. convergence: every client must have received every other client's every item, two of them
//     integrate everything they received, a late joiner syncs from the server, and the three
//     texts must be equal.
// The server's memory is its peak RSS (VmHWM, with VmRSS sampled every 100 ms).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import * as Y from 'yjs';
import { connectOurs, connectYWebsocket, type BenchClient, type ClientOptions } from './collab-clients';
import { forEachItemRange } from './yjs-update-ids';
import { loadConcurrentTrace, traceDataPath, type ReplayTrace } from '@collab/testing';
import { median, percentileOf, progress, progressDone, table } from './bench-table';
import { procCpuSeconds, procStatusKiB } from './proc-stats';

// Knobs for trying other settings (COLLAB_BENCH_*); the defaults are the published figures.
// 'none': only the trace replay.
const CLIENT_COUNTS =
  process.env['COLLAB_BENCH_CLIENTS'] === 'none' ? [] : (process.env['COLLAB_BENCH_CLIENTS'] ?? '10,100').split(',').map(Number);
const WINDOW = envNumber('COLLAB_BENCH_WINDOW', 2);
const WARMUP_S = 1;
/** Measured slices of SLICE_S per server: closed loop, then fixed rate. */
const SLICE_S = 1;
const SLICES = envNumber('COLLAB_BENCH_SLICES', 5);
// 10 slices at 100 edits/s: 1,000 edits per server, so the p99 rests on ten samples, not three.
const RATE_SLICES = envNumber('COLLAB_BENCH_RATE_SLICES', 10);
/** Characters a second all clients together type in the latency phase (10 clients: 10 each, a fast typist). */
const RATE_TOTAL = envNumber('COLLAB_BENCH_RATE', 100);
/** The steady load per client count (edits/s, all clients together) where cost per edit is measured, and the targets there. */
const LOAD: Record<number, { rate: number; cpuTarget: number; p99Target: number }> = {
  10: { rate: 2000, cpuTarget: 0.8, p99Target: 1.0 },
  100: { rate: 1000, cpuTarget: 0.8, p99Target: 0.5 },
};
const LOAD_SLICES = envNumber('COLLAB_BENCH_LOAD_SLICES', 5);
const loadOf = (n: number) => LOAD[n] ?? { rate: Math.min(2000, 20 * n), cpuTarget: 0.8, p99Target: 1.0 };
const DRAIN_TIMEOUT_MS = 15_000;
const TEXT_NAME = 'content';
const root = process.cwd();
const OUR_SERVER = join(root, 'dist', 'apps', 'collab-server', 'main.js');
/** Our server as PM2 runs it (ecosystem.config.js): its Node arguments and glibc malloc settings (MALLOC_*); y-websocket runs with Node's defaults, as it ships. */
const OUR_APP = (
  createRequire(join(root, 'package.json'))('./ecosystem.config.js') as {
    apps: Array<{ name: string; node_args?: string[]; env?: Record<string, string> }>;
  }
).apps.find((app) => app.name === 'collab-server');
const OUR_NODE_ARGS: string[] = OUR_APP?.node_args ?? [];
const OUR_MALLOC_ENV: Record<string, string> = Object.fromEntries(
  Object.entries(OUR_APP?.env ?? {}).filter(([name]) => name.startsWith('MALLOC_')),
);
/** How our server is started, as the bench's notes say it. */
const OUR_RUN_AS = [
  OUR_NODE_ARGS.join(' ') || 'no Node arguments',
  ...Object.entries(OUR_MALLOC_ENV).map(([name, value]) => `${name}=${value}`),
].join(', ');
const Y_SERVER = join(root, 'node_modules', '@y', 'websocket-server', 'src', 'server.js');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const TRACE_FILE = traceDataPath('clownschool-concurrent.json.gz');
const REPLAY_TIMEOUT_MS = 30_000;

type Kind = 'ours' | 'ours-ws' | 'yws';
const LABEL: Record<Kind, string> = { ours: 'collab-server TCP', 'ours-ws': 'collab-server WS', yws: 'y-websocket' };
/** Our server, over either transport. */
const isOurs = (kind: Kind) => kind !== 'yws';

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32), so each client types the same sequence against both servers. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Server processes

interface ServerProcess {
  kind: Kind;
  /** The port its clients connect to (for ours-ws: the WebSocket port). */
  port: number;
  child: ChildProcess;
  logFile: string;
  /** Set when the process ended on its own. */
  exited?: string;
  peakRssKiB(): number;
  cpuSeconds(): number;
}

async function freePort(): Promise<number> {
  const s = createServer().listen({ host: '127.0.0.1', port: 0 });
  await once(s, 'listening');
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function waitListening(server: ServerProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (server.exited) break;
    const probe = connect({ host: '127.0.0.1', port: server.port });
    const ok = await once(probe, 'connect').then(
      () => true,
      () => false,
    );
    probe.destroy();
    if (ok) return;
    await sleep(25);
  }
  throw new Error(
    `${LABEL[server.kind]} is not listening on port ${server.port}${server.exited ? ` (it exited: ${server.exited})` : ''}; see ${server.logFile}`,
  );
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function startServer(kind: Kind, workDir: string, tag: string): Promise<ServerProcess> {
  const tcpPort = await freePort();
  // ours-ws: the clients use the web port; it listens after the TCP port, so waiting for it waits for both.
  const wsPort = kind === 'ours-ws' ? await freePort() : undefined;
  const port = wsPort ?? tcpPort;
  const logFile = join(workDir, `${tag}.log`);
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  if (isOurs(kind)) {
    const dataDir = join(workDir, `${tag}-data`);
    mkdirSync(dataDir, { recursive: true });
    child = spawn(
      process.execPath,
      // The rate and per-address limits are lifted: the bench measures the server, not its
      // policies (1,000 edits/s per client by default, which the trace replay, a recorded session
      // at full speed, passes many times over; 64 connections per address, and every bench client
      // comes from 127.0.0.1). y-websocket has no such limits.
      [
        ...OUR_NODE_ARGS,
        OUR_SERVER,
        ...['--port', String(tcpPort), '--ws-port', wsPort === undefined ? 'off' : String(wsPort)],
        ...['--data-dir', dataDir, '--max-clients', '1000', '--log-level', 'warn'],
        ...['--max-edits-per-second', '10000000', '--max-bytes-per-second', String(1024 ** 3), '--max-connections-per-address', '0'],
      ],
      { stdio: ['ignore', log, log], env: { ...process.env, ...OUR_MALLOC_ENV } },
    );
  } else {
    // In memory: no YPERSISTENCE (LevelDB), no CALLBACK_URL.
    const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port) };
    delete env['YPERSISTENCE'];
    delete env['CALLBACK_URL'];
    child = spawn(process.execPath, [Y_SERVER], { stdio: ['ignore', log, log], env });
  }
  closeSync(log);
  children.add(child);
  let peak = 0;
  const pid = child.pid!;
  const sampler = setInterval(() => (peak = Math.max(peak, procStatusKiB(pid, 'VmRSS'))), 100);
  const server: ServerProcess = {
    kind,
    port,
    child,
    logFile,
    peakRssKiB: () => Math.max(peak, procStatusKiB(pid, 'VmHWM')),
    cpuSeconds: () => procCpuSeconds(pid),
  };
  child.once('exit', (code, signal) => {
    clearInterval(sampler);
    children.delete(child);
    server.exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  await waitListening(server);
  return server;
}

async function stopServer(server: ServerProcess): Promise<void> {
  if (server.exited) return;
  const gone = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await gone;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// One measured run: one server, N clients

interface Pending {
  sender: number;
  sentAt: number;
  remaining: number;
  /** Which latency list it goes to once it reached every peer. */
  record: 'none' | 'full' | 'rate' | 'load';
}

interface ClientState {
  index: number;
  doc: Y.Doc;
  text: Y.Text;
  rng: () => number;
  conn?: BenchClient;
  /** Edits made (= items, one character each). */
  edits: number;
  inFlight: number;
  /** Items received from each other client. */
  received: Int32Array;
  /** Every relayed update, kept by the clients whose text is checked at the end. */
  kept?: Uint8Array[];
  /** ACKs (ours): triples of (change number, time made, 0 for the latency phase or 1 for the steady load), oldest first. */
  ackWait: number[];
  ackHead: number;
}

interface RunResult {
  kind: Kind;
  clients: number;
  /** Median over the measured closed-loop slices. */
  editsPerSec: number;
  sliceRates: number[];
  fullLoadLatency: number[];
  rateLatency: number[];
  loadLatency: number[];
  loadRate: number;
  /** Server CPU seconds per edit during the steady-load slices. */
  loadCpuPerEdit: number;
  offeredPerSec: number;
  ackLatency: number[];
  /** Edit -> ACK at the steady load (ours, TCP). */
  loadAckLatency: number[];
  /** Peak RSS until the closed loop, while every server had been sent the same edits. */
  sameWorkPeakRssKiB: number;
  /** Peak RSS over the whole run, the closed loop included. */
  peakRssKiB: number;
  serverCpu: number;
  benchCpu: number;
  textLength: number;
  problems: string[];
}

const key = (sender: number, clock: number) => sender * 2 ** 32 + clock;

/** One server process with N connected clients, measured slice by slice. */
class Rig {
  readonly problems: string[] = [];
  readonly clients: ClientState[];
  readonly fullLoadLatency: number[] = [];
  readonly rateLatency: number[] = [];
  readonly loadLatency: number[] = [];
  private loadEdits = 0;
  private loadCpuSeconds = 0;
  readonly ackLatency: number[] = [];
  readonly loadAckLatency: number[] = [];
  readonly sliceRates: number[] = [];
  private server: ServerProcess | undefined;
  private readonly connected: BenchClient[] = [];
  private readonly pending = new Map<number, Pending>();
  private record: Pending['record'] = 'none';
  /** Which ACK latencies the edits typed now go to (ours, TCP): the latency phase's, the steady load's, or none. */
  private recordAcks: 'rate' | 'load' | null = null;
  private refilling = false;
  private sliceEnd = 0;
  private sliceCompleted = 0;
  private measuredSeconds = 0;
  private serverCpuSeconds = 0;
  private benchCpuSeconds = 0;
  private offered = 0;
  private offeredSeconds = 0;
  private sameWorkPeakRssKiB = NaN;

  constructor(
    readonly kind: Kind,
    readonly n: number,
  ) {
    this.clients = Array.from({ length: n }, (_, index) => {
      const doc = new Y.Doc();
      doc.clientID = index + 1; // sender index = clientID - 1
      return {
        index,
        doc,
        text: doc.getText(TEXT_NAME),
        rng: seeded(0x5eed + index),
        edits: 0,
        inFlight: 0,
        received: new Int32Array(n),
        kept: index === 0 || index === n - 1 ? [] : undefined,
        ackWait: [],
        ackHead: 0,
      };
    });
  }

  problem(text: string): void {
    if (!this.problems.includes(text) && this.problems.length < 20) this.problems.push(text);
  }

  private get connect() {
    return clientFor(this.kind);
  }

  async start(workDir: string): Promise<void> {
    this.server = await startServer(this.kind, workDir, `${this.kind}-${this.n}`);
    const port = this.server.port;
    for (let i = 0; i < this.n; i += 10) {
      await Promise.all(
        this.clients.slice(i, i + 10).map(async (c) => {
          const options: ClientOptions = { port, doc: c.doc, name: `bench-${c.index}`, onRemoteUpdate: this.onRemoteUpdate(c) };
          const conn = await this.connect(options);
          c.conn = conn;
          this.connected.push(conn);
          conn.onLost((why) => this.problem(`client ${c.index} lost its connection: ${why}`));
          conn.onAck((count) => {
            const now = performance.now();
            while (c.ackHead < c.ackWait.length && c.ackWait[c.ackHead]! <= count) {
              (c.ackWait[c.ackHead + 2] ? this.loadAckLatency : this.ackLatency).push(now - c.ackWait[c.ackHead + 1]!);
              c.ackHead += 3;
            }
          });
        }),
      );
    }
  }

  private type(c: ClientState): void {
    const clock = Y.getState(c.doc.store, c.doc.clientID);
    const position = Math.floor(c.rng() * (c.text.length + 1));
    const letter = LETTERS[Math.floor(c.rng() * LETTERS.length)]!;
    const sentAt = performance.now();
    c.text.insert(position, letter);
    this.pending.set(key(c.index, clock), { sender: c.index, sentAt, remaining: this.n - 1, record: this.record });
    c.edits++;
    c.inFlight++;
    if (this.recordAcks) c.ackWait.push(c.conn!.changesSent(), sentAt, this.recordAcks === 'load' ? 1 : 0);
  }

  private completed(p: Pending, now: number): void {
    const c = this.clients[p.sender]!;
    c.inFlight--;
    if (p.record === 'full') this.fullLoadLatency.push(now - p.sentAt);
    else if (p.record === 'rate') this.rateLatency.push(now - p.sentAt);
    else if (p.record === 'load') this.loadLatency.push(now - p.sentAt);
    if (now < this.sliceEnd) {
      this.sliceCompleted++;
      if (this.refilling) while (c.inFlight < WINDOW) this.type(c);
    }
  }

  private onRemoteUpdate(receiver: ClientState) {
    return (update: Uint8Array) => {
      const now = performance.now();
      receiver.kept?.push(update.slice());
      forEachItemRange(update, (client, clock, length) => {
        const sender = client - 1;
        if (sender === receiver.index) return; // y-websocket sends each update back to its author too
        if (sender < 0 || sender >= this.n) return this.problem(`client ${receiver.index} received an item of unknown client ${client}`);
        receiver.received[sender] += length;
        for (let i = 0; i < length; i++) {
          const k = key(sender, clock + i);
          const p = this.pending.get(k);
          if (!p) continue; // a duplicate
          if (--p.remaining === 0) {
            this.pending.delete(k);
            this.completed(p, now);
          }
        }
      });
    };
  }

  private async drain(what: string): Promise<void> {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (this.pending.size && performance.now() < deadline && !this.server?.exited) await sleep(2);
    if (this.pending.size) {
      this.problem(`${this.pending.size} edits of a ${what} slice had not reached every peer ${DRAIN_TIMEOUT_MS / 1000} s after it`);
      this.pending.clear();
    }
  }

  /** Closed loop for `seconds`: WINDOW edits in flight per client; then waits for the last to arrive. */
  async closedLoop(seconds: number, measured: boolean): Promise<void> {
    const server = this.server!;
    const cpu0 = server.cpuSeconds();
    const bench0 = process.cpuUsage();
    this.record = measured ? 'full' : 'none';
    this.sliceCompleted = 0;
    const started = performance.now();
    this.sliceEnd = started + seconds * 1000;
    this.refilling = true;
    for (const c of this.clients) while (c.inFlight < WINDOW) this.type(c);
    await sleep(seconds * 1000);
    this.refilling = false;
    const elapsed = (performance.now() - started) / 1000;
    if (measured) {
      const bench = process.cpuUsage(bench0);
      this.sliceRates.push(this.sliceCompleted / elapsed);
      this.serverCpuSeconds += server.cpuSeconds() - cpu0;
      this.benchCpuSeconds += (bench.user + bench.system) / 1e6;
      this.measuredSeconds += elapsed;
    }
    this.sliceEnd = 0;
    await this.drain('closed-loop');
  }

  /** Open loop for `seconds`: the clients together type `rate` letters a second ('load': the cost-per-edit phase; 'none': a warm-up). */
  async fixedRate(seconds: number, rate = RATE_TOTAL, record: 'rate' | 'load' | 'none' = 'rate'): Promise<void> {
    this.record = record;
    this.recordAcks = this.kind === 'ours' && record !== 'none' ? record : null;
    const cpu0 = this.server!.cpuSeconds();
    const offered0 = this.offered;
    const period = (1000 * this.n) / rate;
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      this.clients.map(async (c) => {
        for (let next = started + c.rng() * period; next < end; next += period) {
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
          if (this.server!.exited) return;
          this.type(c);
          this.offered++;
        }
      }),
    );
    this.recordAcks = null;
    await this.drain('fixed-rate');
    if (record === 'load') {
      this.loadCpuSeconds += this.server!.cpuSeconds() - cpu0;
      this.loadEdits += this.offered - offered0;
      this.offered = offered0;
    } else if (record === 'none') {
      this.offered = offered0;
    } else {
      this.offeredSeconds += (performance.now() - started) / 1000;
    }
  }

  /** Takes the server's peak memory so far: called when every server has been sent the same edits. */
  noteSameWorkPeak(): void {
    this.sameWorkPeakRssKiB = this.server!.peakRssKiB();
  }

  /** Checks convergence, reads the server's peak memory, closes everything, stops the server. */
  async finish(): Promise<RunResult> {
    const server = this.server!;
    const { clients, n } = this;
    try {
      if (this.kind === 'ours') {
        const deadline = performance.now() + DRAIN_TIMEOUT_MS;
        while (clients.some((c) => c.ackHead < c.ackWait.length) && performance.now() < deadline && !server.exited) await sleep(5);
        const unacked = clients.reduce((sum, c) => sum + (c.ackWait.length - c.ackHead) / 3, 0);
        if (unacked) this.problem(`${unacked} edits were not ACKed ${DRAIN_TIMEOUT_MS / 1000} s after the fixed-rate slices`);
      }
      let missing = 0;
      for (const r of clients) for (const s of clients) if (r !== s && r.received[s.index] !== s.edits) missing++;
      if (missing) this.problem(`${missing} of ${n * (n - 1)} (client, peer) pairs miss some of the peer's edits`);
      const late = new Y.Doc();
      late.clientID = n + 1000;
      this.connected.push(await this.connect({ port: server.port, doc: late, name: 'bench-late-joiner' }));
      const serverText = late.getText(TEXT_NAME).toString();
      const peakRssKiB = server.peakRssKiB();
      for (const c of this.connected) c.close();
      const totalEdits = clients.reduce((sum, c) => sum + c.edits, 0);
      if (serverText.length !== totalEdits)
        this.problem(`the server's document has ${serverText.length} characters; ${totalEdits} were typed`);
      for (const c of clients) {
        const kept = c.kept;
        if (!kept) continue;
        c.doc.transact(() => {
          for (const u of kept) Y.applyUpdate(c.doc, u);
        });
        if (c.text.toString() !== serverText) this.problem(`client ${c.index}'s text differs from the server's (late joiner's) text`);
      }
      if (server.exited) this.problem(`the server process ended during the run (${server.exited}); log:\n${logTail(server.logFile)}`);
      return {
        kind: this.kind,
        clients: n,
        editsPerSec: this.sliceRates.length ? median(this.sliceRates) : NaN,
        sliceRates: this.sliceRates,
        fullLoadLatency: this.fullLoadLatency,
        rateLatency: this.rateLatency,
        loadLatency: this.loadLatency,
        loadRate: loadOf(n).rate,
        loadCpuPerEdit: this.loadEdits ? this.loadCpuSeconds / this.loadEdits : NaN,
        offeredPerSec: this.offered / this.offeredSeconds,
        ackLatency: this.ackLatency,
        loadAckLatency: this.loadAckLatency,
        peakRssKiB,
        sameWorkPeakRssKiB: this.sameWorkPeakRssKiB,
        serverCpu: this.serverCpuSeconds / this.measuredSeconds,
        benchCpu: this.benchCpuSeconds / this.measuredSeconds,
        textLength: serverText.length,
        problems: this.problems,
      };
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    for (const c of this.connected) c.close();
    if (this.server) await stopServer(this.server);
  }
}

/** Our TCP client for our TCP port; the y-protocols WebSocket client for y-websocket and for our WebSocket port. */
function clientFor(kind: Kind) {
  return kind === 'ours' ? connectOurs : connectYWebsocket;
}

/** Every server with N clients each, measured in alternating slices so that machine noise hits them alike. */
async function measureGroup(n: number, order: readonly Kind[], workDir: string): Promise<RunResult[]> {
  const rigs = order.map((kind) => new Rig(kind, n));
  const say = (rig: Rig, what: string) => progress(`${n} clients, ${LABEL[rig.kind]}: ${what}`);
  try {
    for (const rig of rigs) {
      say(rig, `starting the server, connecting ${n} clients`);
      await rig.start(workDir);
    }
    // ABC, then CBA: each goes first and last equally often.
    const inTurn = (i: number) => (i % 2 === 0 ? rigs : [...rigs].reverse());
    // The fixed rates first, warm-up included: until the closed loop every server has been sent
    // the very same edits, so its memory then is compared at the same work (the closed loop
    // gives each server as many edits as it can take, and the faster one ends with a longer
    // document, which takes more memory).
    const { rate } = loadOf(n);
    for (const rig of rigs) {
      say(rig, 'warming up');
      await rig.fixedRate(WARMUP_S, rate, 'none');
    }
    for (let i = 0; i < RATE_SLICES; i++) {
      for (const rig of inTurn(i + 1)) {
        say(rig, `${RATE_TOTAL} edits/s, slice ${i + 1}/${RATE_SLICES}`);
        await rig.fixedRate(SLICE_S);
      }
    }
    for (let i = 0; i < LOAD_SLICES; i++) {
      for (const rig of inTurn(i)) {
        say(rig, `cost per edit at ${rate} edits/s, slice ${i + 1}/${LOAD_SLICES}`);
        await rig.fixedRate(SLICE_S, rate, 'load');
      }
    }
    for (const rig of rigs) rig.noteSameWorkPeak();
    for (const rig of rigs) {
      say(rig, 'warming up the closed loop');
      await rig.closedLoop(WARMUP_S, false);
    }
    for (let i = 0; i < SLICES; i++) {
      for (const rig of inTurn(i)) {
        say(rig, `closed loop, slice ${i + 1}/${SLICES}`);
        await rig.closedLoop(SLICE_S, true);
      }
    }
    const results: RunResult[] = [];
    for (const rig of rigs) {
      say(rig, 'checking convergence');
      results.push(await rig.finish());
    }
    return results;
  } finally {
    for (const rig of rigs) await rig.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The real concurrent trace, replayed by one client per agent

interface ReplayResult {
  kind: Kind;
  /** Until every client's text is the trace's endContent, s; NaN if it never was. */
  convergedS: number;
  /** Until every edit is ACKed (ours), s. */
  ackedS: number;
  peakRssKiB: number;
  problems: string[];
}

/**
 * Each agent's client sends its own transactions in trace order as fast as it can, each one as
 * soon as its document holds everything the transaction was typed against (its parents), the way
 * that person saw the document; so the replay is a chain of round trips through the server.
 */
async function replay(kind: Kind, trace: ReplayTrace, workDir: string, tag: string): Promise<ReplayResult> {
  progress(`trace replay, ${LABEL[kind]}`);
  const problems: string[] = [];
  const server = await startServer(kind, workDir, tag);
  const connectClient = clientFor(kind);
  const conns: BenchClient[] = [];
  try {
    const agents = await Promise.all(
      trace.steps.map(async (steps, a) => {
        const doc = new Y.Doc();
        // Not the agent's id (a + 1): the agent's updates are applied, not typed, and Yjs would
        // take its own id's items arriving from outside for another client using the same id.
        doc.clientID = 100 + a;
        const conn = await connectClient({ port: server.port, doc, name: `replay-agent-${a}` });
        conns.push(conn);
        conn.onLost((why) => problems.push(`agent ${a}'s client lost its connection: ${why}`));
        return { doc, conn, steps, next: 0, text: doc.getText(TEXT_NAME) };
      }),
    );
    const REPLAY = Symbol('replay');
    const pump = (agent: (typeof agents)[number]) => {
      for (; agent.next < agent.steps.length; agent.next++) {
        const step = agent.steps[agent.next]!;
        for (let b = 0; b < trace.agents; b++) if (Y.getState(agent.doc.store, b + 1) < step.needs[b]!) return;
        if (step.update) Y.applyUpdate(agent.doc, step.update, REPLAY);
      }
    };
    const started = performance.now();
    // The agent goes on once the update that let it has been applied, not inside its 'update'
    // event: a transaction started there is nested in the one being cleaned up, and Yjs encodes
    // each nested transaction's update only once all of them ran, from its start state to the
    // document's end state, so each one's update also held the items of every later one. Each
    // agent sent its items again and again: 1.32 MB instead of the trace's 0.33 MB, and most
    // updates a server got were items it had.
    for (const agent of agents) {
      let queued = false;
      agent.doc.on('update', (_u: Uint8Array, origin: unknown) => {
        if (origin === REPLAY || queued) return;
        queued = true;
        queueMicrotask(() => {
          queued = false;
          pump(agent);
        });
      });
    }
    for (const agent of agents) pump(agent);
    let convergedS = NaN;
    let ackedS = kind === 'ours' ? NaN : 0;
    const deadline = started + REPLAY_TIMEOUT_MS;
    while (performance.now() < deadline && !server.exited && (Number.isNaN(convergedS) || Number.isNaN(ackedS))) {
      await sleep(2);
      const now = (performance.now() - started) / 1000;
      if (
        Number.isNaN(convergedS) &&
        agents.every((ag) => ag.next === ag.steps.length && trace.finalClocks.every((c, b) => Y.getState(ag.doc.store, b + 1) === c)) &&
        agents.every((ag) => ag.text.toString() === trace.endContent)
      ) {
        convergedS = now;
      }
      if (Number.isNaN(ackedS) && agents.every((ag) => ag.next === ag.steps.length && ag.conn.changesAcked() >= ag.conn.changesSent()))
        ackedS = now;
    }
    if (Number.isNaN(convergedS)) {
      const where = agents.map((ag, a) => `agent ${a}: ${ag.next}/${ag.steps.length} sent, ${ag.text.length} characters`).join('; ');
      problems.push(`the clients did not reach endContent within ${REPLAY_TIMEOUT_MS / 1000} s (${where})`);
    }
    if (Number.isNaN(ackedS)) problems.push(`not every edit was ACKed within ${REPLAY_TIMEOUT_MS / 1000} s`);
    const late = new Y.Doc();
    late.clientID = 1000;
    const joiner = await connectClient({ port: server.port, doc: late, name: 'replay-late-joiner' });
    conns.push(joiner);
    if (late.getText(TEXT_NAME).toString() !== trace.endContent)
      problems.push(`a late joiner's copy of the server's document is not endContent`);
    if (server.exited) problems.push(`the server process ended during the replay (${server.exited}); log:\n${logTail(server.logFile)}`);
    return { kind, convergedS, ackedS, peakRssKiB: server.peakRssKiB(), problems };
  } finally {
    for (const c of conns) c.close();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const [file, what] of [
    [OUR_SERVER, 'the built collab-server (node tools/build-apps.mjs collab-server)'],
    [Y_SERVER, '@y/websocket-server in node_modules'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${file} is missing: the collab bench needs ${what}`);
  }
  const workDir = join(root, 'tmp', `bench-collab-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const results: RunResult[] = [];
  const replays: ReplayResult[] = [];
  let trace: ReplayTrace | undefined;
  const started = performance.now();
  try {
    for (const [i, n] of CLIENT_COUNTS.entries()) {
      // Alternate who goes first, so that drift on a shared machine hits both alike.
      const order: Kind[] = ['ours', 'ours-ws', 'yws'];
      results.push(...(await measureGroup(n!, i % 2 === 0 ? order : order.reverse(), workDir)));
    }
    if (existsSync(TRACE_FILE) && process.env['COLLAB_BENCH_TRACE'] !== '0') {
      progress('building Yjs updates from the concurrent trace');
      trace = loadConcurrentTrace(TRACE_FILE);
      // Twice each, ABCCBA; the faster of the two counts (other load only ever slows a replay down).
      for (const [i, kind] of (['yws', 'ours', 'ours-ws', 'ours-ws', 'ours', 'yws'] as const).entries())
        replays.push(await replay(kind, trace, workDir, `${kind}-replay-${i}`));
    }
  } finally {
    progressDone();
    for (const c of children) c.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }
  const elapsed = (performance.now() - started) / 1000;

  console.log(
    [
      `Same Yjs workload against every server, each its own node process, clients in this process over 127.0.0.1. N clients on one`,
      `document type single letters at random positions (seeded: the same keystrokes for every server). Per N, the servers run at once`,
      `and are measured in alternating ${SLICE_S} s slices (ABC, CBA), so that other load on the machine hits them alike.`,
      `- ${LABEL.ours}: our port 8080 with our client (HELLO, ACKs); ${LABEL['ours-ws']}: our WebSocket port (8090) with the same`,
      `  y-protocols WebSocket client as y-websocket's (no ACK asked for); both store every edit before they would ACK it.`,
      `- edits/s sustained: closed loop, each client keeps ${WINDOW} edits in flight (sent, not yet at every other client) and types the next`,
      `  one the moment one has reached everyone, so the server is never idle; edits that reached every peer per second, median of`,
      `  ${SLICES} slices after a warm-up slice. Each edit goes out to N-1 peers (y-websocket also sends it back to its author).`,
      `- latency: from making an edit to the LAST peer receiving it, with the clients together typing ${RATE_TOTAL} letters/s (each the same`,
      `  share, random phases, open loop; ${RATE_SLICES} slices), a load every server sustains; "at full load": the same during the closed loop`,
      `  (mostly queueing behind ${WINDOW} x N edits in flight).`,
      `- clients are cheap receivers: they read the item ids of each relayed update but integrate none until the end (then two of them`,
      `  integrate all they received and must equal a late joiner's copy of the server's document), so the bench process is not the bottleneck.`,
      `- collab-server stores every edit durably (fsync, group commit); y-websocket keeps the document in memory only.`,
      `- collab-server runs as PM2 starts it (ecosystem.config.js: ${OUR_RUN_AS}); y-websocket with Node's defaults.`,
      `- memory: the server's peak RSS (VmHWM), once after the fixed-rate slices (every server had been sent the same edits) and once at`,
      `  the end (the closed loop sends a faster server more edits); CPU: user+system time during the closed-loop slices, 100% = one core`,
      `  (this machine: ${availableParallelism()});`,
      `  CPU per edit: that time divided by the edits that reached every peer in it.`,
      '',
    ].join('\n'),
  );

  const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');
  const pct = (values: number[], p: number) => (values.length ? percentileOf(values, p) : NaN);
  const KINDS = ['ours', 'ours-ws', 'yws'] as const;
  const HEADER = ['figure', ...KINDS.map((k) => LABEL[k]), 'TCP / y-ws', 'WS / y-ws'];
  const rows: string[][] = [];
  for (const n of CLIENT_COUNTS) {
    const of = (kind: Kind) => results.find((r) => r.kind === kind && r.clients === n)!;
    const [tcp, ws, yws] = KINDS.map(of) as [RunResult, RunResult, RunResult];
    const row = (figure: string, value: (r: RunResult) => number, digits = 0) =>
      rows.push([figure, ...[tcp, ws, yws].map((r) => fmt(value(r), digits)), ratio(value(tcp), value(yws)), ratio(value(ws), value(yws))]);
    const cpuPerEditUs = (r: RunResult) => (r.serverCpu / r.editsPerSec) * 1e6;
    row(`${n} clients: edits/s sustained (higher is better)`, (r) => r.editsPerSec);
    row(`  edit -> all peers p50 (ms) at ${fmt(RATE_TOTAL)} edits/s`, (r) => pct(r.rateLatency, 50), 2);
    row(`  edit -> all peers p99 (ms) at ${fmt(RATE_TOTAL)} edits/s`, (r) => pct(r.rateLatency, 99), 2);
    row(`  edit -> all peers p50 (ms) at full load`, (r) => pct(r.fullLoadLatency, 50), 1);
    row(`  edit -> all peers p99 (ms) at full load`, (r) => pct(r.fullLoadLatency, 99), 1);
    const load = loadOf(n);
    const verdict = (a: number, b: number, target: number) => `${ratio(a, b)} ${a / b <= target ? 'met' : 'NOT MET'} (<= ${target}x)`;
    const targetRow = (figure: string, value: (r: RunResult) => number, target: number, digits = 0) =>
      rows.push([
        figure,
        ...[tcp, ws, yws].map((r) => fmt(value(r), digits)),
        verdict(value(tcp), value(yws), target),
        verdict(value(ws), value(yws), target),
      ]);
    targetRow(`  server CPU per edit (us) at ${fmt(load.rate)} edits/s`, (r) => r.loadCpuPerEdit * 1e6, load.cpuTarget, 1);
    targetRow(`  edit -> all peers p99 (ms) at ${fmt(load.rate)} edits/s`, (r) => pct(r.loadLatency, 99), load.p99Target, 2);
    targetRow(`  server peak RSS (MiB), the same edits sent to each`, (r) => r.sameWorkPeakRssKiB / 1024, 1.0, 1);
    row(`  server peak RSS (MiB), closed loop included`, (r) => r.peakRssKiB / 1024, 1);
    row(`  server CPU at full load (% of a core)`, (r) => r.serverCpu * 100);
    row(`  server CPU per edit (us) at full load`, cpuPerEditUs, 1);
    row(`  bench process CPU at full load (% of a core)`, (r) => r.benchCpu * 100);
    rows.push([
      `  edit -> ACK (durable) p50 / p99 (ms) at ${fmt(RATE_TOTAL)} edits/s`,
      `${fmt(pct(tcp.ackLatency, 50), 2)} / ${fmt(pct(tcp.ackLatency, 99), 2)}`,
      'not asked',
      'no ACK',
      '',
      '',
    ]);
    rows.push([
      `  edit -> ACK (durable) p50 / p99 (ms) at ${fmt(load.rate)} edits/s`,
      `${fmt(pct(tcp.loadAckLatency, 50), 2)} / ${fmt(pct(tcp.loadAckLatency, 99), 2)}`,
      'not asked',
      'no ACK',
      '',
      '',
    ]);
    rows.push([`  document at the end (characters)`, ...[tcp, ws, yws].map((r) => fmt(r.textLength)), '', '']);
  }
  console.log(table(HEADER, rows));
  console.log(
    `\nLatency, RSS, CPU: lower is better. Offered rate achieved: ${results.map((r) => `${LABEL[r.kind]} ${r.clients}: ${fmt(r.offeredPerSec)}/s`).join(', ')}.`,
  );
  let failed = false;
  for (const r of results) {
    if (r.problems.length === 0) {
      console.log(
        `converged: ${LABEL[r.kind]}, ${r.clients} clients: every client has every edit; the texts are equal (${fmt(r.textLength)} characters).`,
      );
      continue;
    }
    failed = true;
    for (const p of r.problems) console.log(`NOT CONVERGED / PROBLEM: ${LABEL[r.kind]}, ${r.clients} clients: ${p}`);
  }
  if (trace && replays.length) {
    const best = (kind: Kind): ReplayResult => {
      const mine = replays.filter((r) => r.kind === kind);
      const fastest = mine.reduce((a, b) => (Number.isNaN(b.convergedS) || b.convergedS >= a.convergedS ? a : b));
      return { ...fastest, problems: mine.flatMap((r) => r.problems), peakRssKiB: Math.max(...mine.map((r) => r.peakRssKiB)) };
    };
    const [tcp, ws, yws] = KINDS.map(best) as [ReplayResult, ReplayResult, ReplayResult];
    console.log(
      `\nReal trace: ${relative(root, TRACE_FILE)} (CC BY 4.0, josephg/editing-traces), ${trace.agents} people typing at once, ` +
        `${fmt(trace.transactions)} transactions, ${fmt(trace.endContent.length)} characters at the end.\n` +
        `One client per person sends that person's transactions in order, each as soon as its document holds the transaction's parents\n` +
        `(a chain of round trips through the server); fresh server each time, twice per server (ABCCBA), the faster run shown.\n`,
    );
    const all = [tcp, ws, yws];
    const line = (figure: string, value: (r: ReplayResult) => number, digits: number) => [
      figure,
      ...all.map((r) => fmt(value(r), digits)),
      ratio(value(tcp), value(yws)),
      ratio(value(ws), value(yws)),
    ];
    console.log(
      table(HEADER, [
        [
          'wall time until all clients have endContent (s)',
          ...all.map((r) => fmt(r.convergedS, 2)),
          `${ratio(tcp.convergedS, yws.convergedS)} ${tcp.convergedS <= yws.convergedS ? 'met' : 'NOT MET'} (<= 1.0x)`,
          `${ratio(ws.convergedS, yws.convergedS)} ${ws.convergedS <= yws.convergedS ? 'met' : 'NOT MET'} (<= 1.0x)`,
        ],
        line('  transactions/s (higher is better)', (r) => trace!.transactions / r.convergedS, 0),
        ['  until every edit is ACKed (durable) (s)', fmt(tcp.ackedS, 2), 'not asked', 'no ACK', '', ''],
        line('  server peak RSS (MiB)', (r) => r.peakRssKiB / 1024, 1),
      ]),
    );
    for (const r of all) {
      if (r.problems.length === 0)
        console.log(`converged: ${LABEL[r.kind]}, trace replay: all ${trace.agents} clients and a late joiner hold endContent.`);
      for (const p of r.problems) console.log(`NOT CONVERGED / PROBLEM: ${LABEL[r.kind]}, trace replay: ${p}`);
      if (r.problems.length) failed = true;
    }
  } else {
    console.log(
      process.env['COLLAB_BENCH_TRACE'] === '0'
        ? '\n(trace replay skipped: COLLAB_BENCH_TRACE=0)'
        : `\n(trace replay skipped: ${TRACE_FILE} is missing)`,
    );
  }
  console.log(`(collab bench took ${elapsed.toFixed(0)} s)`);
  if (failed) process.exitCode = 1;
}

void main().catch((error: unknown) => {
  progressDone();
  console.error(error);
  process.exit(1);
});
