// Storage bench, side by side in one run, on a real disk (tmp/ in the repo, not tmpfs):
//  1. appends per second from 16 concurrent writers (each appends a one-keystroke Yjs update,
//     waits for the ack, repeats): group commit against one fdatasync per record. The updates are
//     made beforehand, so the figure is the store's, not Yjs's.
//  2. load time of a log of ~260,000 single-character updates (the automerge-paper trace from
//     testdata/traces, synthetic edits if it is missing) against applying the same updates to a
//     fresh Y.Doc in memory.
import { mkdirSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
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

// One Yjs update per keystroke, as a live editor would send them.
function makeTrace(): Trace {
  const path = join(root, 'testdata', 'traces', 'automerge-paper.json.gz');
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
    return { source: 'automerge-paper trace', updates, endContent: trace.endContent };
  }
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 260_000; i++) {
    const len = text.length;
    if (len > 0 && rand() < 0.3) text.delete(Math.floor(rand() * len), 1);
    else text.insert(Math.floor(rand() * (len + 1)), String.fromCharCode(97 + Math.floor(rand() * 26)));
  }
  return { source: 'synthetic edits (testdata/traces/automerge-paper.json.gz missing)', updates, endContent: text.toString() };
}

async function writeLog(trace: Trace, dataDir: string): Promise<number> {
  const store = await DocumentStore.open({ dataDir, compactBytes: Infinity, onWarning: () => undefined });
  const stored = await store.open('paper');
  const doc = new Y.Doc();
  await stored.attach({
    encodeState: () => Y.encodeStateAsUpdate(doc),
    text: () => doc.getText('content').toString(),
    applyStoredUpdate: () => undefined,
    mergeOutsideText: async () => ({ merged: 'unchanged' as const }),
  });
  const acks: Promise<void>[] = [];
  for (const u of trace.updates) {
    Y.applyUpdate(doc, u);
    acks.push(stored.append(u));
  }
  await Promise.all(acks);
  await store.close();
  return statSync(join(dataDir, 'paper.log')).size;
}

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
  const stored = await SharedDocument.load(await store.open('paper'), {
    maxMessageBytes: 16 * 1024 * 1024,
    maxDocumentChars: 1024 * 1024 * 1024,
    presence: { maxStateBytes: 16 * 1024, maxDepth: 16, maxIdsPerPeer: 4 },
  });
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

    progress('load: building the updates...');
    const trace = makeTrace();
    const dataDir = join(workDir, 'load');
    progress(`load: writing a log of ${fmt(trace.updates.length)} updates...`);
    const logBytes = await writeLog(trace, dataDir);
    const memory: number[] = [];
    const disk: number[] = [];
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      progress(`load: round ${round + 1} of ${LOAD_ROUNDS}...`);
      gc();
      memory.push(applyInMemory(trace));
      gc();
      disk.push(await loadFromDisk(trace, dataDir));
    }
    progressDone();
    const mem = median(memory);
    const load = median(disk);
    console.log(
      `storage: load of ${fmt(trace.updates.length)} single-character updates (${trace.source}), log ${fmt(logBytes / 1048576, 1)} MiB, median of ${LOAD_ROUNDS}`,
    );
    console.log(
      table(
        ['way', 'ms'],
        [
          ['Y.applyUpdate of each update, fresh Y.Doc in memory', fmt(mem)],
          ['DocumentStore open + openDocument (read, CRC, replay, text check)', fmt(load)],
        ],
      ),
    );
    console.log(`load / in-memory apply: ${fmt(load / mem, 2)}x (target: at most 1.5x)`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
