// `npm run fuzz [TARGET...] [--runs N] [--seconds S]`: bundles fuzz/worker.ts with esbuild (so
// @collab/* aliases resolve) and runs each target of fuzz/targets in a worker thread with
// fast-check, one target after another, for N runs (default 1,000,000) or S seconds each
// (default 2,700), whichever comes first. Shows progress, prints a table, and for each failure
// the seed, replay path and counterexample; exits 1 on any failure, hang or crash.
//
// Runs go in batches of 50,000 (--batch N), batch i with seed SEED + i, so a failure stops only
// its batch. Other flags: --seed N and --path P replay a failure (one target); --strict fails on
// known issues too (by default inputs hitting one are counted: each has a failing regression
// test, see fuzz/known-issues.ts); --stall S declares a hang after S seconds without a finished
// run (default 60).
import { bundleTs } from './bundle-ts.mjs';
import { randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['frame-decoder', 'message-decoder', 'message-handling', 'small-frames'];

function usage(message) {
  console.error(
    `${message}\nusage: node tools/fuzz.mjs [${TARGETS.join('|')}...] [--runs N] [--seconds S] [--batch N] [--seed N --path P] [--strict] [--stall S]`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const options = {
    targets: [],
    runs: 1_000_000,
    seconds: 2_700,
    batch: 50_000,
    seed: undefined,
    path: undefined,
    strict: false,
    stall: 60,
  };
  const number = (flag, value, min) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) usage(`${flag} needs a whole number of at least ${min} (got ${value ?? 'nothing'})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = number(arg, argv[++i], 1);
    else if (arg === '--seconds') options.seconds = number(arg, argv[++i], 1);
    else if (arg === '--batch') options.batch = number(arg, argv[++i], 1);
    else if (arg === '--seed') options.seed = number(arg, argv[++i], -(2 ** 31));
    else if (arg === '--path') options.path = argv[++i] ?? usage('--path needs a value');
    else if (arg === '--stall') options.stall = number(arg, argv[++i], 1);
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--help' || arg === '-h') usage('Fuzzes the collab protocol stack.');
    else if (arg.startsWith('-')) usage(`unknown flag ${arg}`);
    else if (!TARGETS.includes(arg)) usage(`unknown target ${arg}`);
    else options.targets.push(arg);
  }
  if (!options.targets.length) options.targets = [...TARGETS];
  if (options.path !== undefined && (options.seed === undefined || options.targets.length !== 1))
    usage('--path replays one target and needs its --seed');
  return options;
}

const options = parseArgs(process.argv.slice(2));
const tty = Boolean(process.stdout.isTTY);
const format = (n) => Math.round(n).toLocaleString('en-US');

const bundle = join(root, 'tmp', 'fuzz', 'worker.js');
await bundleTs(`fuzz/worker.ts`, bundle);

/** Starts a worker; resolves with its result, or { hang } / { crash } when it had to be stopped. */
function runWorker(data, onTick) {
  return new Promise((resolve) => {
    const counters = new SharedArrayBuffer(12);
    const runs = new Int32Array(counters);
    const worker = new Worker(bundle, { workerData: { ...data, counters }, execArgv: ['--enable-source-maps'] });
    let last = 0;
    let lastChange = Date.now();
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      resolve({ ...result, started: Atomics.load(runs, 0), batchSeed: Atomics.load(runs, 1), batchStart: Atomics.load(runs, 2) });
    };
    const timer = setInterval(() => {
      const now = Atomics.load(runs, 0);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > options.stall * 1000) {
        // A run that never ends: a synchronous loop cannot be interrupted from inside the worker.
        finish({ hang: true });
        void worker.terminate();
        return;
      }
      onTick?.(now);
    }, 250);
    worker.on('message', (message) => {
      if (message.kind === 'done') {
        finish(message);
        void worker.terminate();
      }
    });
    worker.on('error', (error) => finish({ crash: error }));
    worker.on('exit', (code) => finish({ crash: new Error(`the worker exited with code ${code} before reporting`) }));
  });
}

function progressLine(target, runs, startedAt) {
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = seconds > 0 ? runs / seconds : 0;
  const shown = Math.min(runs, options.runs);
  return `${target.padEnd(17)} ${format(shown).padStart(9)} / ${format(options.runs)} runs  ${format(rate).padStart(6)} runs/s  ${seconds.toFixed(0).padStart(5)} s`;
}

const rows = [];
let failed = false;
for (const target of options.targets) {
  const seed = options.seed ?? randomInt(-(2 ** 31), 2 ** 31 - 1);
  const startedAt = Date.now();
  let lastPrinted = startedAt;
  console.log(`\n=== fuzz: ${target} (seed ${seed})`);
  const result = await runWorker(
    {
      target,
      mode: 'run',
      numRuns: options.runs,
      batchRuns: options.batch,
      seed,
      path: options.path,
      timeLimitMs: options.seconds * 1000,
      strict: options.strict,
      outDir: join(root, 'tmp', 'fuzz'),
    },
    (runs) => {
      if (tty) process.stdout.write(`\r${progressLine(target, runs, startedAt)}`);
      else if (Date.now() - lastPrinted >= 30_000) {
        lastPrinted = Date.now();
        console.log(progressLine(target, runs, startedAt));
      }
    },
  );
  if (tty) process.stdout.write('\n');
  const seconds = (Date.now() - startedAt) / 1000;
  let status;
  let failures = 0;
  if (result.hang) {
    status = 'HANG';
    failures = 1;
    // The run that started last never finished: regenerate its input to show it.
    const index = result.started - result.batchStart - 1;
    const hangSeed = result.batchSeed;
    const shown = await runWorker({
      target,
      mode: 'show',
      numRuns: 1,
      batchRuns: 1,
      seed: hangSeed,
      path: String(index),
      strict: false,
      outDir: join(root, 'tmp', 'fuzz'),
    });
    console.log(
      `\n${target}: run ${index} of the batch with seed ${hangSeed} made no progress for ${options.stall} s (a hang while shrinking shows the wrong input).`,
    );
    console.log(`input: ${shown.input ?? '(could not be regenerated)'}`);
    console.log(`replay: node tools/fuzz.mjs ${target} --seed ${hangSeed} --path ${index}`);
  } else if (result.crash) {
    status = 'CRASH';
    failures = 1;
    console.log(`\n${target}: the worker crashed (seed ${seed}): ${result.crash.stack ?? result.crash}`);
  } else {
    for (const failure of result.failures) {
      console.log(`\n${target}: ${failure.report}`);
      if (failure.path) console.log(`replay: node tools/fuzz.mjs ${target} --seed ${failure.seed} --path ${failure.path}`);
    }
    failures = result.failures.length;
    const complete = options.path !== undefined || result.numRuns >= options.runs;
    status = failures ? 'FAIL' : complete ? 'ok' : 'time up';
  }
  for (const [what, count] of Object.entries(result.stats ?? {})) console.log(`${target}: ${what}: ${format(count)}`);
  const known = Object.entries(result.knownIssues ?? {});
  for (const [id, count] of known) console.log(`${target}: ${format(count)} inputs hit known issue ${id} (see its regression test)`);
  if (failures) failed = true;
  const runs = result.numRuns ?? result.started;
  rows.push({
    target,
    runs: format(runs),
    seconds: seconds.toFixed(0),
    'runs/s': format(runs / Math.max(seconds, 0.001)),
    failures: String(failures),
    known: format(known.reduce((sum, [, count]) => sum + count, 0)),
    result: status,
  });
}

console.log('');
const columns = Object.keys(rows[0]);
const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(line(columns));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(columns.map((c) => row[c])));
process.exit(failed ? 1 : 0);
