// Storage bench, side by side in one run, on a real disk (tmp/ in the repo, not tmpfs):
//  1. appends per second from 16 concurrent writers (each appends a one-keystroke Yjs update,
//     waits for the ack, repeats): group commit against one fdatasync per record. The updates are
//     made beforehand, so the figure is the store's, not Yjs's.
//  2. reload after kill -9: a child process stores every update of a real trace as the server
//     does (apply, append, group commit, compaction as configured by default), is killed with
//     SIGKILL once the last one is acknowledged, and the document is loaded from what it left,
//     against applying the same updates one by one to a fresh Y.Doc in memory. For the
//     automerge-paper trace (~260,000 updates) and seph-blog1 (~137,000), from testdata/traces.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { DocumentStore } from '@collab/persistence';
import { SharedDocument } from '@collab/collab-core';
import { median, progress, progressDone, table } from './bench-table';

const WRITERS = 16;
const APPEND_SECONDS = 1;
const APPEND_ROUNDS = 3; // alternating, so a busy machine weighs on both modes alike
const LOAD_ROUNDS = 3;
const root = process.cwd();
const workDir = join(root, 'tmp', `bench-storage-${process.pid}`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface AppendResult {
  perSecond: number;
  appends: number;
  fsyncs: number;
}

// 1,000 one-keystroke updates per writer, each writer typing in its own Y.Doc; writers cycle
// through theirs (appending an update again is harmless: Yjs applies it once).
function makeWriterUpdates(): Uint8Array[][] {
  return Array.from({ length: WRITERS }, (_, w) => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    const text = doc.getText('content');
    for (let i = 0; i < 1000; i++) text.insert(text.length, String.fromCharCode(97 + w));
    return updates;
  });
}

async function measureAppends(groupCommit: boolean, writerUpdates: Uint8Array[][]): Promise<AppendResult> {
  const dataDir = join(workDir, groupCommit ? 'group' : 'per-record');
  const store = await DocumentStore.open({ dataDir, groupCommit, compactBytes: Infinity, onWarning: () => undefined });
  try {
    const stored = await store.open('bench');
    let appends = 0;
    const started = performance.now();
    const deadline = started + APPEND_SECONDS * 1000;
    const writer = async (w: number) => {
      const updates = writerUpdates[w];
      for (let i = 0; performance.now() < deadline; i++) {
        await stored.append(updates[i % updates.length]);
        appends++;
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: appends / seconds, appends, fsyncs: stored.logSyncCount };
  } finally {
    await store.close();
  }
}

interface Trace {
  source: string;
  updates: Uint8Array[];
  endContent: string;
}

const TRACES = ['automerge-paper', 'seph-blog1'] as const;

// One Yjs update per transaction of the trace, as a live editor would send them.
function makeTrace(name: string): Trace {
  const path = join(root, 'testdata', 'traces', `${name}.json.gz`);
  const doc = new Y.Doc();
  const text = doc.getText('content');
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  if (existsSync(path)) {
    const trace = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
      endContent: string;
      txns: Array<{ patches: Array<[number, number, string]> }>;
    };
    for (const txn of trace.txns) {
      doc.transact(() => {
        for (const [pos, del, ins] of txn.patches) {
          if (del > 0) text.delete(pos, del);
          if (ins) text.insert(pos, ins);
        }
      });
    }
    return { source: `${name} trace`, updates, endContent: trace.endContent };
  }
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 260_000; i++) {
    const len = text.length;
    if (len > 0 && rand() < 0.3) text.delete(Math.floor(rand() * len), 1);
    else text.insert(Math.floor(rand() * (len + 1)), String.fromCharCode(97 + Math.floor(rand() * 26)));
  }
  return { source: `synthetic edits (testdata/traces/${name}.json.gz missing)`, updates, endContent: text.toString() };
}

/** In the child: stores every update as the server does, says so, and waits to be killed. */
async function writeAndWait(traceName: string, dataDir: string): Promise<void> {
  const trace = makeTrace(traceName);
  const store = await DocumentStore.open({ dataDir, onWarning: () => undefined });
  const stored = await SharedDocument.load(await store.open('paper'), LIMITS);
  // In batches, as edits arrive at a live server: each batch is acknowledged before the next, and
  // compaction runs when the log calls for it.
  for (let i = 0; i < trace.updates.length; i += WRITER_BATCH) {
    await Promise.all(trace.updates.slice(i, i + WRITER_BATCH).map((u) => stored.applyChange(PEER, u)));
  }
  process.stdout.write('stored\n');
  setInterval(() => undefined, 1000); // alive until killed
}

/** Runs the writer in a child process and kills it with SIGKILL once every update is acknowledged. */
async function writeThenKill(traceName: string, dataDir: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, COLLAB_BENCH_STORAGE_WRITER: `${traceName}\n${dataDir}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('stored') && resolve());
    child.once('exit', (code) => reject(new Error(`the writer ended before storing everything (exit ${code})`)));
  });
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
  return readdirSync(dataDir).reduce((sum, f) => sum + statSync(join(dataDir, f)).size, 0);
}

const LIMITS = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxDocumentChars: 1024 * 1024 * 1024,
  maxDocumentItems: 1024 * 1024 * 1024,
  presence: { maxStateBytes: 16 * 1024, maxDepth: 16, maxIdsPerPeer: 4 },
};
const PEER = { label: 'bench', send: () => undefined };
/** Updates the writer applies before it waits for their acknowledgement. */
const WRITER_BATCH = 200;

function applyInMemory(trace: Trace): number {
  const started = performance.now();
  const doc = new Y.Doc();
  for (const u of trace.updates) Y.applyUpdate(doc, u);
  const ms = performance.now() - started;
  if (doc.getText('content').toString() !== trace.endContent) throw new Error('in-memory replay does not end at endContent');
  return ms;
}

async function loadFromDisk(trace: Trace, dataDir: string): Promise<number> {
  const started = performance.now();
  const store = await DocumentStore.open({ dataDir, compactBytes: Infinity, onWarning: (m) => console.error(`warning: ${m}`) });
  // Loaded as the server loads it: the core's SharedDocument applies the stored history.
  const stored = await SharedDocument.load(await store.open('paper'), LIMITS);
  const ms = performance.now() - started;
  if (stored.text !== trace.endContent) throw new Error('loaded document does not end at endContent');
  await store.close();
  return ms;
}

async function main(): Promise<void> {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  try {
    const writerUpdates = makeWriterUpdates();
    const rounds: Record<'perRecord' | 'group', AppendResult[]> = { perRecord: [], group: [] };
    for (let round = 0; round < APPEND_ROUNDS; round++) {
      progress(`appends: round ${round + 1} of ${APPEND_ROUNDS}, one fsync per record...`);
      rounds.perRecord.push(await measureAppends(false, writerUpdates));
      progress(`appends: round ${round + 1} of ${APPEND_ROUNDS}, group commit...`);
      rounds.group.push(await measureAppends(true, writerUpdates));
    }
    progressDone();
    const middle = (results: AppendResult[]) => results.find((r) => r.perSecond === median(results.map((x) => x.perSecond)))!;
    const perRecord = middle(rounds.perRecord);
    const group = middle(rounds.group);
    console.log(
      `storage: appends with ${WRITERS} concurrent writers (append a keystroke's update, wait for the ack, repeat); ` +
        `median of ${APPEND_ROUNDS} alternating rounds of ${APPEND_SECONDS} s`,
    );
    console.log(
      table(
        ['mode', 'appends/s', 'appends', 'fdatasyncs', 'records/fsync'],
        [perRecord, group].map((r, i) => [
          i === 0 ? 'one fsync per record' : 'group commit',
          fmt(r.perSecond),
          fmt(r.appends),
          fmt(r.fsyncs),
          fmt(r.appends / Math.max(1, r.fsyncs), 1),
        ]),
      ),
    );
    console.log(`group commit / per-record: ${fmt(group.perSecond / perRecord.perSecond, 1)}x (target: at least 10x)\n`);

    const rows: string[][] = [];
    for (const name of TRACES) {
      progress(`reload: ${name}: building the updates...`);
      const trace = makeTrace(name);
      const dataDir = join(workDir, `load-${name}`);
      mkdirSync(dataDir, { recursive: true });
      progress(`reload: ${name}: storing ${fmt(trace.updates.length)} updates in a child, then kill -9...`);
      const fileBytes = await writeThenKill(name, dataDir);
      const memory: number[] = [];
      const disk: number[] = [];
      for (let round = 0; round < LOAD_ROUNDS; round++) {
        progress(`reload: ${name}: round ${round + 1} of ${LOAD_ROUNDS}...`);
        gc();
        memory.push(applyInMemory(trace));
        gc();
        // A fresh copy each round: a load that ends with a clean close compacts the files.
        const copy = join(workDir, `load-${name}-${round}`);
        cpSync(dataDir, copy, { recursive: true });
        rmSync(join(copy, '.collab.lock'), { force: true });
        disk.push(await loadFromDisk(trace, copy));
      }
      const mem = median(memory);
      const load = median(disk);
      const ratio = load / mem;
      rows.push([
        `${trace.source}: ${fmt(trace.updates.length)} updates, files ${fmt(fileBytes / 1048576, 1)} MiB`,
        fmt(mem),
        fmt(load),
        `${fmt(ratio, 2)}x`,
        ratio <= 1.5 ? 'met' : 'NOT MET',
      ]);
    }
    progressDone();
    console.log(
      `storage: reload after kill -9 (files as the killed writer left them) against Yjs applying the same updates in memory one by one; median of ${LOAD_ROUNDS}`,
    );
    console.log(table(['trace', 'in memory (ms)', 'reload from files (ms)', 'reload / in memory', 'target <= 1.5x'], rows));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const writer = process.env['COLLAB_BENCH_STORAGE_WRITER'];
(writer ? writeAndWait(...(writer.split('\n') as [string, string])) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
