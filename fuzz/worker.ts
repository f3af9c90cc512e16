// The worker thread tools/fuzz.mjs runs one target in. Runs are counted in shared memory, so
// the main thread can show progress and tell a hang (a synchronous loop in the target, which
// nothing inside this thread could interrupt) from slow progress, and terminate the worker.
//
// A long run is cut into batches of fast-check runs, each with its own seed (seed, seed + 1,
// ...): fast-check stops at a failure, so a rare failure costs the rest of its batch, not the
// rest of the run; every failure is reported with the seed and path that replay it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { runFuzzTarget } from './support/fuzz-target';
import { findFuzzTarget } from './targets';

/** What tools/fuzz.mjs passes to the worker. */
export interface FuzzWorkerData {
  target: string;
  /** 'run' fuzzes; 'show' only generates the input of run `path` (for a hang report). */
  mode: 'run' | 'show';
  numRuns: number;
  /** Runs per fast-check batch; the batch i has seed `seed + i`. */
  batchRuns: number;
  seed: number;
  path?: string;
  timeLimitMs?: number;
  strict: boolean;
  /** Where to write the inputs behind a failure that needs earlier inputs. */
  outDir: string;
  /** Int32 slots: [0] checks started, [1] the seed of the current batch, [2] checks started before it. */
  counters: SharedArrayBuffer;
}

/** One failure: fast-check's report and how to replay it. */
export interface FuzzFailure {
  report: string;
  seed: number;
  path?: string;
}

/** What the worker reports when it is done. */
export interface FuzzWorkerResult {
  kind: 'done';
  numRuns: number;
  interrupted: boolean;
  failures: FuzzFailure[];
  knownIssues: Record<string, number>;
  stats?: Record<string, number>;
  input?: string;
}

async function main(): Promise<void> {
  const data = workerData as FuzzWorkerData;
  const target = findFuzzTarget(data.target);
  if (!target) throw new Error(`unknown fuzz target ${data.target}`);
  const counters = new Int32Array(data.counters);
  if (data.mode === 'show') {
    let input: unknown;
    fc.check(
      fc.property(target.input, (value) => {
        input = value;
      }),
      { seed: data.seed, path: data.path, numRuns: 1, endOnFailure: true },
    );
    parentPort!.postMessage({
      kind: 'done',
      numRuns: 0,
      interrupted: false,
      failures: [],
      knownIssues: {},
      input: fc.stringify(input),
    } satisfies FuzzWorkerResult);
    return;
  }
  const knownIssues: Record<string, number> = {};
  const stats: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  const deadline = data.timeLimitMs === undefined ? Infinity : Date.now() + data.timeLimitMs;
  let done = 0;
  let interrupted = false;
  for (let batch = 0; done < data.numRuns && !interrupted; batch++) {
    const seed = (data.seed + batch) | 0;
    Atomics.store(counters, 1, seed);
    Atomics.store(counters, 2, Atomics.load(counters, 0));
    let statefulFile: string | undefined;
    const details = await runFuzzTarget(target, {
      numRuns: data.path === undefined ? Math.min(data.batchRuns, data.numRuns - done) : data.numRuns,
      seed,
      path: data.path,
      timeLimitMs: deadline === Infinity ? undefined : Math.max(1, deadline - Date.now()),
      strict: data.strict,
      onRun: () => Atomics.add(counters, 0, 1),
      onKnownIssue: (id) => {
        knownIssues[id] = (knownIssues[id] ?? 0) + 1;
      },
      onStatefulFailure: (inputs) => {
        // JSON, byte arrays as hex: enough to replay the sequence on a fresh state by hand.
        statefulFile = join(data.outDir, `${data.target}-seed${seed}-inputs.json`);
        mkdirSync(data.outDir, { recursive: true });
        const json = JSON.stringify(
          inputs,
          (_key, value: unknown) => (value instanceof Uint8Array ? { hex: Buffer.from(value).toString('hex') } : value),
          1,
        );
        writeFileSync(statefulFile, json);
      },
      onStats: (values) => {
        // Counters add up over batches; a "most ..." figure is the largest.
        for (const [what, count] of Object.entries(values))
          stats[what] = what.startsWith('most ') ? Math.max(stats[what] ?? 0, count) : (stats[what] ?? 0) + count;
      },
    });
    done += details.numRuns;
    interrupted = details.interrupted || Date.now() >= deadline;
    if (details.failed) {
      const report = `${fc.defaultReportMessage(details)}${statefulFile ? `\nThe inputs that led to it, in order: ${statefulFile}` : ''}`;
      failures.push({ report, seed, path: details.counterexamplePath ?? undefined });
    }
    if (data.path !== undefined) break;
  }
  parentPort!.postMessage({ kind: 'done', numRuns: done, interrupted, failures, knownIssues, stats } satisfies FuzzWorkerResult);
}

void main();
