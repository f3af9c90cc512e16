// The concurrent editing trace of testdata/traces (README there, "Replaying the concurrent trace
// through a server") turned into Yjs updates: each transaction's patches applied to a Y.Doc
// holding exactly the merge of its parents' results, with one Yjs client id per agent.
//
// Instead of a Y.Doc per transaction, each agent keeps one Y.Doc, brought forward before each of
// its transactions by the other agents' updates its parents include. This needs every agent's
// transactions to be causally ordered (each one's parents include the agent's previous one),
// which is checked, and what a transaction's parents include is a vector of "how many of agent
// b's transactions", so the merge of any set of parents is a component-wise maximum.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';

interface ConcurrentTraceFile {
  kind: 'concurrent';
  numAgents: number;
  endContent: string;
  txns: Array<{ parents: number[]; agent: number; patches: Array<[number, number, string]> }>;
}

export interface ReplayStep {
  /** The transaction's index in the trace. */
  index: number;
  /** The update this transaction produced; undefined when it changed nothing. */
  update: Uint8Array | undefined;
  /** Yjs state (next clock) of each agent's client id (agent + 1) the update depends on. */
  needs: number[];
}

export interface ReplayTrace {
  agents: number;
  transactions: number;
  endContent: string;
  /** Per agent, its transactions in trace order. */
  steps: ReplayStep[][];
  /** Final Yjs state (next clock) of each agent. */
  finalClocks: number[];
}

export const TEXT = 'content';

export function loadConcurrentTrace(path: string): ReplayTrace {
  const trace = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as ConcurrentTraceFile;
  if (trace.kind !== 'concurrent') throw new Error(`${path} is not a concurrent trace`);
  const agents = trace.numAgents;
  const docs = Array.from({ length: agents }, (_, a) => {
    const doc = new Y.Doc();
    doc.clientID = a + 1;
    return doc;
  });
  /** Per agent doc: how many of each agent's transactions it holds. */
  const holds = docs.map(() => new Array<number>(agents).fill(0));
  /** Per transaction: how many of each agent's transactions its result holds. */
  const results: number[][] = [];
  const steps: ReplayStep[][] = docs.map(() => []);

  trace.txns.forEach((txn, i) => {
    const want = new Array<number>(agents).fill(0);
    for (const p of txn.parents) {
      const r = results[p];
      if (!r) throw new Error(`transaction ${i} has parent ${p}, which does not come before it`);
      for (let b = 0; b < agents; b++) want[b] = Math.max(want[b]!, r[b]!);
    }
    const a = txn.agent;
    const doc = docs[a]!;
    const has = holds[a]!;
    // The other agents' updates this one lacks, applied in trace order (parents first: applying
    // an update before its dependencies would leave it pending, which Yjs handles slowly).
    const missing: Array<{ index: number; update: Uint8Array | undefined }> = [];
    for (let b = 0; b < agents; b++) {
      if (has[b]! > want[b]! || (b === a && has[b] !== want[b])) {
        throw new Error(`transaction ${i} (agent ${a}) does not follow its agent's previous transaction; this replay cannot build it`);
      }
      for (; b !== a && has[b]! < want[b]!; has[b]!++) missing.push(steps[b]![has[b]!]!);
    }
    missing.sort((x, y) => x.index - y.index);
    for (const m of missing) if (m.update) Y.applyUpdate(doc, m.update);
    const needs = docs.map((_, b) => Y.getState(doc.store, b + 1));
    let update: Uint8Array | undefined;
    const keep = (u: Uint8Array) => (update = u);
    doc.on('update', keep);
    const text = doc.getText(TEXT);
    doc.transact(() => {
      for (const [pos, del, ins] of txn.patches) {
        if (del) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
    });
    doc.off('update', keep);
    steps[a]!.push({ index: i, update, needs });
    has[a]!++;
    results.push([...has]);
  });

  // Everything merged must give the trace's end text.
  const check = new Y.Doc();
  const inTraceOrder = steps.flat().sort((x, y) => x.index - y.index);
  check.transact(() => {
    for (const s of inTraceOrder) if (s.update) Y.applyUpdate(check, s.update);
  });
  if (check.getText(TEXT).toString() !== trace.endContent)
    throw new Error(`${path}: the Yjs updates built from it do not end at endContent`);
  return {
    agents,
    transactions: trace.txns.length,
    endContent: trace.endContent,
    steps,
    finalClocks: docs.map((_, b) => Y.getState(check.store, b + 1)),
  };
}
