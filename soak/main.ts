// `npm run soak` (node tools/soak.mjs [--seconds N] [--json]): the fault and soak suite.
// 1. Main run: the built collab-server under PM2, clients editing several documents with
//    random disconnects and offline edits, slow readers, SIGKILLs at random moments.
// 2. Disk-full run: a second server on a small tmpfs that is filled up and freed again.
// Then a report; exit 0 when no acknowledged edit was lost and everything converged, 1 otherwise,
// 2 when the suite could not run. Bounded: about N seconds of traffic plus settling and checks.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@collab/testing';
import { runCleanups } from './cleanup';
import { runDiskFull, type DiskFullResult } from './disk-full-run';
import { runMain, type MainRunResult } from './main-run';
import { clearStatus, status } from './progress';
import { buildReport, printReport } from './report';
import { Random } from './token-text';

const USAGE = `Usage: node tools/soak.mjs [--seconds N] [--json] [--seed N] [--keep] [--disk-full-server PATH]

Fault and soak suite of collab-server: clients on several documents making random edits,
random disconnects, slow readers, SIGKILLs under PM2, then a disk-full run on a tmpfs.
  --seconds N   traffic time, split between the main run and the disk-full run (default 60)
  --json        print the report as one JSON object on the last line as well
  --seed N      random seed (printed in the report) to repeat a run's choices
  --keep        keep the data directories under tmp/soak even when the run passed
  --disk-full-server PATH   server script for the disk-full run (default the built one;
                for trying a candidate fix without touching dist/)
Exit: 0 nothing lost and everything converged, 1 otherwise, 2 the suite could not run.`;

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'disk-full-server': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 30 || seconds > 24 * 3600) {
    console.error('soak: --seconds must be a number from 30 to 86400');
    return 2;
  }
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) {
    console.error('soak: --seed must be an integer');
    return 2;
  }
  const root = repoRoot(__dirname);
  const serverScript = values['disk-full-server']
    ? resolve(values['disk-full-server'])
    : join(root, 'dist', 'apps', 'collab-server', 'main.js');
  if (!existsSync(serverScript)) {
    console.error(`soak: ${serverScript} is missing; build it with: node tools/build-apps.mjs collab-server`);
    return 2;
  }
  const runDir = resolve(root, 'tmp', 'soak', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(runDir, { recursive: true });

  const long = seconds >= 300;
  const diskFullSeconds = long ? clamp(Math.round(seconds * 0.12), 30, 90) : clamp(Math.round(seconds * 0.25), 12, 20);
  const episodes = long ? Math.max(2, Math.floor(diskFullSeconds / 25)) : 1;
  const editSeconds = Math.max(20, seconds - diskFullSeconds);
  const random = new Random(seed);
  const started = Date.now();

  let mainRun: MainRunResult | undefined;
  let diskFull: DiskFullResult | undefined;
  let failure: string | undefined;
  try {
    mainRun = await runMain({
      editSeconds,
      clients: 16,
      documents: 4,
      slowReaders: 3,
      killGapMs: editSeconds < 120 ? [5000, 12_000] : [10_000, 40_000],
      waitForUnload: long,
      runDir,
      random: new Random(random.int(1, 2 ** 31)),
    });
    status('disk-full run: starting');
    diskFull = await runDiskFull({
      seconds: diskFullSeconds,
      episodes,
      clients: 4,
      documents: 2,
      runDir,
      serverScript,
      random: new Random(random.int(1, 2 ** 31)),
      firstId: 1000,
    });
  } catch (error) {
    failure = (error as Error).stack ?? String(error);
  } finally {
    await runCleanups();
    clearStatus();
  }
  const report = buildReport({
    seconds,
    seed,
    durationSeconds: (Date.now() - started) / 1000,
    mainRun,
    diskFull,
    failure,
    runDir,
    serverScript,
  });
  printReport(report);
  if (report.ok && !values.keep) rmSync(runDir, { recursive: true, force: true });
  else console.log(`data kept in ${runDir}`);
  if (values.json) console.log(JSON.stringify(report));
  return failure && !mainRun ? 2 : report.ok ? 0 : 1;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    clearStatus();
    console.error(`soak: ${signal}, stopping what the suite started`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (error: Error) => {
    console.error(`soak: ${error.stack ?? error.message}`);
    await runCleanups();
    process.exit(2);
  },
);
