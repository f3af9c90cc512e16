// Turns the concurrent editing trace of ../shared/data (its README, "Replaying the concurrent
// trace through a server") into per-agent Yjs updates: each transaction's patches are applied
// to a replica holding exactly its parents' merged state, with one Yjs client id per agent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';

interface ConcurrentTrace {
  endContent: string;
  numAgents: number;
  txns: Array<{ parents: number[]; agent: number; patches: Array<[number, number, string]> }>;
}

/** The Yjs updates of the trace, in trace order with who made each, and the text they must end at. */
export interface AgentUpdates {
  endContent: string;
  numAgents: number;
  /** `needs`: what the agent must have received from the others (Yjs client id, clock) before this update applies cleanly. */
  sequence: Array<{ agent: number; update: Uint8Array; needs: Array<[number, number]> }>;
}

/** Path of a file in the shared data folder, beside this repository. */
export function sharedDataPath(file: string): string {
  return join(process.env.COLLAB_SHARED_DATA ?? join(__dirname, '..', '..', '..', '..', 'shared', 'data'), file);
}

/** Reads a gzipped JSON trace. */
export function readTrace<T>(file: string): T {
  return JSON.parse(gunzipSync(readFileSync(sharedDataPath(file))).toString('utf8')) as T;
}

/** Builds every agent's updates for the concurrent trace (about a second for clownschool). */
export function concurrentTraceUpdates(file = 'clownschool-concurrent.json.gz'): AgentUpdates {
  const trace = readTrace<ConcurrentTrace>(file);
  const updates: Uint8Array[] = [];
  const needs: Array<Array<[number, number]>> = [];
  // One replica per agent; `applied[agent]` marks the transactions already merged into it.
  const replicas = Array.from({ length: trace.numAgents }, (_, agent) => {
    const doc = new Y.Doc();
    doc.clientID = 1000 + agent;
    return doc;
  });
  const applied = replicas.map(() => new Uint8Array(trace.txns.length));

  trace.txns.forEach((txn, index) => {
    const doc = replicas[txn.agent]!;
    const done = applied[txn.agent]!;
    // Bring the replica to exactly the parents' state: merge every ancestor not merged yet.
    const missing: number[] = [];
    const stack = [...txn.parents];
    while (stack.length) {
      const t = stack.pop()!;
      if (done[t]) continue;
      done[t] = 1;
      missing.push(t);
      stack.push(...trace.txns[t]!.parents);
    }
    missing.sort((a, b) => a - b);
    for (const t of missing) Y.applyUpdate(doc, updates[t]!);
    needs.push(
      replicas
        .filter((other) => other !== doc)
        .map((other): [number, number] => [other.clientID, Y.getState(doc.store, other.clientID)])
        .filter(([, clock]) => clock > 0),
    );
    let update: Uint8Array | undefined;
    const capture = (u: Uint8Array) => (update = update ? Y.mergeUpdates([update, u]) : u);
    doc.on('update', capture);
    doc.transact(() => {
      const text = doc.getText('content');
      for (const [pos, del, ins] of txn.patches) {
        if (del) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
    });
    doc.off('update', capture);
    done[index] = 1;
    updates.push(update ?? new Uint8Array([0, 0]));

  });
  for (const d of replicas) d.destroy();
  return {
    endContent: trace.endContent,
    numAgents: trace.numAgents,
    sequence: trace.txns.map((txn, i) => ({ agent: txn.agent, update: updates[i]!, needs: needs[i]! })),
  };
}
