// The main run: the built collab-server under PM2 (its own daemon, Pm2Sandbox), clients editing
// several documents with random disconnects, slow readers, and SIGKILLs at random moments; then
// everything settles, the server is stopped gracefully and the results are checked.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, Pm2Sandbox, waitForPort } from '@collab/testing';
import { onCleanup } from './cleanup';
import { Auditor } from './disk-audit';
import { Fleet } from './fleet';
import { readRss, RssSampler } from './memory';
import { status } from './progress';
import { SlowReader } from './slow-reader';
import type { Random } from './token-text';
import { verifyFinal, type VerifyResult } from './verify';

const APP = 'collab-server';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface MainRunConfig {
  /** How long clients edit. */
  editSeconds: number;
  clients: number;
  documents: number;
  slowReaders: number;
  /** Time between two kills, ms. */
  killGapMs: readonly [number, number];
  /** Wait for the documents to unload (60 s after the last client leaves) before the final memory sample. */
  waitForUnload: boolean;
  runDir: string;
  random: Random;
}

export interface MainRunResult {
  clients: number;
  documents: number;
  slowReaders: number;
  edits: number;
  offlineEdits: number;
  tokens: number;
  tokensAcked: number;
  disconnects: number;
  sessions: number;
  kills: number;
  killTimesS: number[];
  restartSeconds: number[];
  unexpectedRestarts: number;
  pm2Restarts: number | undefined;
  slowReaderPauses: number;
  slowReaderDrops: number;
  refusals: number;
  unsaved: string[];
  divergentBeforeStop: string[];
  gracefulStop: boolean;
  verify: VerifyResult;
  audits: { count: number; tokensChecked: number; missing: number; tornTails: number; problems: string[] };
  memory: {
    firstStartRss?: number;
    peakRss: number;
    finalStartRss?: number;
    rssClientsGone?: number;
    rssUnloaded?: number;
    processes: number;
  };
  serverLog: { warnings: number; errors: number; samples: string[] };
  problems: string[];
}

export async function runMain(config: MainRunConfig): Promise<MainRunResult> {
  const { random } = config;
  const dataDir = join(config.runDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const maxClients = config.clients + config.slowReaders + 50;
  const pm2 = new Pm2Sandbox({
    COLLAB_PORT: String(port),
    COLLAB_WS_PORT: 'off',
    COLLAB_CWD: dataDir,
    LOG_LEVEL: 'warn',
    COLLAB_MAX_CLIENTS: String(maxClients),
  });
  const stopPm2 = onCleanup('PM2 sandbox', () => pm2.kill());
  const problems: string[] = [];
  const sampler = new RssSampler(5000);
  const auditor = new Auditor(dataDir);
  const documents = Array.from({ length: config.documents }, (_, i) => `soak-${i}`);
  const fleet = new Fleet({ port, documents, clients: config.clients, random, editIntervalMs: [80, 700] });
  const readers = Array.from(
    { length: config.slowReaders },
    (_, i) => new SlowReader(i, documents[i % documents.length]!, port, random, Math.min(20_000, Math.max(3000, config.editSeconds * 100))),
  );
  const closeClients = onCleanup('main-run clients', () => {
    for (const r of readers) r.stop();
    fleet.close();
  });
  const started = Date.now();
  let kills = 0;
  const killTimesS: number[] = [];
  const restartSeconds: number[] = [];
  let unexpectedRestarts = 0;
  let killing = false;
  let current = 0;

  try {
    const first = await pm2.start(APP);
    if (first.status !== 'online' || !(first.pid > 0)) throw new Error(`PM2 did not start ${APP}: ${JSON.stringify(first)}`);
    current = first.pid;
    await waitForPort(port, { timeoutMs: 15_000 });
    sampler.follow(current);
    sampler.start(1000);

    await fleet.connectAll();
    for (const r of readers) r.start();
    const editUntil = Date.now() + config.editSeconds * 1000;
    // The last kill comes early enough for the final process to warm up before editing ends.
    const killUntil = editUntil - Math.max(8000, Math.min(30_000, config.editSeconds * 200));

    // A server that dies without being killed by us is a crash: PM2 restarts it, we count it.
    const watchdog = setInterval(() => {
      if (killing || readRss(current) !== undefined) return;
      killing = true;
      void pm2
        .waitForRestart(APP, current, 30_000)
        .then((state) => {
          unexpectedRestarts++;
          problems.push(`the server (pid ${current}) exited without being killed; PM2 restarted it as pid ${state.pid}`);
          current = state.pid;
          sampler.follow(current);
        })
        .catch((error: Error) => problems.push(`the server is gone and PM2 did not restart it: ${error.message}`))
        .finally(() => (killing = false));
    }, 1000);
    const stopWatchdog = onCleanup('watchdog', () => clearInterval(watchdog));

    const killer = (async () => {
      for (let k = 0; k < 1000; k++) {
        // Now and then a kill soon after the last restart (while clients resynchronise); never
        // before the first process has warmed up (its start RSS is the run's baseline).
        let gap = random.chance(0.15) ? random.int(3000, 6000) : random.int(config.killGapMs[0], config.killGapMs[1]);
        if (k === 0) gap = Math.max(gap, 7000);
        if (Date.now() + gap > killUntil) break;
        await sleep(gap);
        while (killing) await sleep(50);
        killing = true;
        try {
          const state = await pm2.state(APP);
          if (!state || state.status !== 'online' || !(state.pid > 0)) {
            problems.push(`before kill ${kills + 1}: PM2 reports ${JSON.stringify(state)}`);
            continue;
          }
          // Everything acknowledged so far was fsynced before this kill.
          const acked = fleet.ackedByDocument();
          process.kill(state.pid, 'SIGKILL');
          const killedAt = Date.now();
          kills++;
          killTimesS.push(Math.round((killedAt - started) / 100) / 10);
          await auditor.audit(acked, `right after kill ${kills}`);
          const next = await pm2.waitForRestart(APP, state.pid, 30_000);
          await waitForPort(port, { timeoutMs: 15_000 });
          restartSeconds.push((Date.now() - killedAt) / 1000);
          current = next.pid;
          sampler.follow(current);
        } finally {
          killing = false;
        }
      }
    })();

    const auditing = (async () => {
      for (let k = 0; k < 10_000 && Date.now() < editUntil; k++) {
        await sleep(Math.min(20_000, Math.max(5000, editUntil - Date.now())));
        if (Date.now() >= editUntil) break;
        await auditor.audit(fleet.ackedByDocument(), `periodic at ${Math.round((Date.now() - started) / 1000)} s`);
      }
    })();

    const progress = setInterval(() => {
      const t = fleet.totals();
      status(
        `main run ${Math.round((Date.now() - started) / 1000)}/${config.editSeconds} s  edits ${t.edits}  acked tokens ${t.tokensAcked}/${t.tokens}  kills ${kills}  disconnects ${t.disconnects}  rss ${((sampler.latest?.lastRss ?? 0) / 1048576).toFixed(0)} MiB`,
      );
    }, 1000);
    const stopProgress = onCleanup('progress', () => clearInterval(progress));

    await fleet.edit(editUntil, { everyMs: [1500, 6000], offlineMs: [300, 5000] });
    await stopProgress();
    status('main run: waiting for the last kill and audit to finish');
    await killer;
    await auditing;
    status('main run: settling (every client saved, documents converged)');
    const unsaved = (await fleet.settle(90_000)).map((c) => c.name);
    if (unsaved.length) problems.push(`clients not saved within 90 s: ${unsaved.join(', ')}`);
    const divergentBeforeStop = await fleet.converge(30_000);
    if (divergentBeforeStop.length)
      problems.push(`documents whose clients did not converge within 30 s: ${divergentBeforeStop.join(', ')}`);
    await auditor.audit(fleet.ackedByDocument(), 'after settling');
    await stopWatchdog();

    const finalProcess = sampler.latest;
    await closeClients();
    await sleep(3000);
    sampler.sample();
    const rssClientsGone = finalProcess?.lastRss;
    let rssUnloaded: number | undefined;
    if (config.waitForUnload) {
      // Documents unload 60 s after their last client left.
      for (let s = 65; s > 0; s--) {
        status(`main run: waiting ${s} s for the documents to unload (memory check)`);
        await sleep(1000);
      }
      sampler.sample();
      rssUnloaded = finalProcess?.lastRss;
    }
    await stopProgress();
    sampler.stop();
    const finalState = await pm2.state(APP);
    if (finalState && finalState.pid !== finalProcess?.pid) {
      problems.push(`the server was restarted after the clients left (pid ${finalProcess?.pid} -> ${finalState.pid})`);
    }

    status('main run: graceful stop (pm2 stop)');
    await pm2.pm2('stop', APP);
    const stopped = await pm2.state(APP);
    const gracefulStop = stopped?.status === 'stopped';
    if (!gracefulStop) problems.push(`after pm2 stop the server is ${JSON.stringify(stopped)}`);
    const serverLog = readServerLog(pm2.home);
    const verify = await verifyFinal(fleet, dataDir);
    const totals = fleet.totals();
    return {
      clients: config.clients,
      documents: config.documents,
      slowReaders: config.slowReaders,
      edits: totals.edits,
      offlineEdits: totals.offlineEdits,
      tokens: totals.tokens,
      tokensAcked: totals.tokensAcked,
      disconnects: totals.disconnects,
      sessions: totals.sessions,
      kills,
      killTimesS,
      restartSeconds,
      unexpectedRestarts,
      pm2Restarts: stopped?.restarts,
      slowReaderPauses: readers.reduce((n, r) => n + r.stats.pauses, 0),
      slowReaderDrops: readers.reduce((n, r) => n + r.stats.closedByServer, 0),
      refusals: totals.refusals,
      unsaved,
      divergentBeforeStop,
      gracefulStop,
      verify,
      audits: {
        count: auditor.audits,
        tokensChecked: auditor.tokensChecked,
        missing: auditor.missing.size,
        tornTails: auditor.tornTails,
        problems: auditor.problems,
      },
      memory: {
        firstStartRss: sampler.processes[0]?.startRss,
        peakRss: sampler.peakRss,
        finalStartRss: finalProcess?.startRss,
        rssClientsGone,
        rssUnloaded,
        processes: sampler.processes.length,
      },
      serverLog,
      problems,
    };
  } finally {
    sampler.stop();
    await closeClients();
    await stopPm2();
  }
}

/** Counts the server's WARN and ERROR lines in PM2's logs of the sandbox (read before it is removed). */
function readServerLog(home: string): { warnings: number; errors: number; samples: string[] } {
  const lines: string[] = [];
  for (const file of ['collab-server-error.log', 'collab-server-out.log']) {
    const path = join(home, 'logs', file);
    if (existsSync(path)) lines.push(...readFileSync(path, 'utf8').split('\n').filter(Boolean));
  }
  const warnings = lines.filter((l) => l.includes('[WARN]'));
  const errors = lines.filter((l) => l.includes('[ERROR]') || /\b(Error|TypeError|RangeError):/.test(l));
  // One sample per kind of message (numbers and addresses stripped), errors first.
  const seen = new Set<string>();
  const samples: string[] = [];
  for (const l of [...errors, ...warnings]) {
    const key = l.replace(/[0-9a-f:.[\]]{4,}|\d+/gi, '#');
    if (seen.has(key) || samples.length >= 8) continue;
    seen.add(key);
    samples.push(l.length > 240 ? `${l.slice(0, 240)}…` : l);
  }
  return { warnings: warnings.length, errors: errors.length, samples };
}
