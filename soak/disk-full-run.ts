// The disk-full run: a second server, started directly (node dist/apps/collab-server/main.js),
// keeps its data on a small tmpfs this run mounts itself. A filler file takes all the space while
// clients keep editing: they must be refused with ERROR 7, nothing acknowledged may go missing
// from the files, and once the filler is deleted edits are accepted and acknowledged again.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '@collab/testing';
import { onCleanup } from './cleanup';
import { Auditor } from './disk-audit';
import { Fleet } from './fleet';
import { status } from './progress';
import { DEFAULT_MIX, type EditMix, type Random } from './token-text';
import { verifyFinal, type VerifyResult } from './verify';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Edits while the disk is full: bigger fillers, so the log's last page overflows quickly. */
const BIG_FILLERS: EditMix = { tokenShare: 0.4, deleteShare: 0.15, maxFillerInsert: 400, maxFillerDelete: 8 };

export const TMPFS_SIZE = '4m';

export interface DiskFullConfig {
  seconds: number;
  episodes: number;
  clients: number;
  documents: number;
  runDir: string;
  serverScript: string;
  random: Random;
  firstId: number;
}

export interface DiskFullResult {
  ran: boolean;
  skipped?: string;
  clients: number;
  documents: number;
  episodes: number;
  fillerBytes: number[];
  error7Refusals: number;
  otherRefusals: number;
  /** Seconds from deleting the filler until every client was saved again. */
  recoverySeconds: number[];
  tokensAckedWhileFull: number;
  tokensAckedAfterRecovery: number;
  edits: number;
  tokens: number;
  tokensAcked: number;
  serverExitCode: number | null;
  verify?: VerifyResult;
  audits: { count: number; tokensChecked: number; missing: number; problems: string[] };
  problems: string[];
}

/** Writes `path` until the file system is full; returns the bytes written. */
function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x78);
      for (let i = 0; i < 100_000; i++) {
        try {
          total += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

export async function runDiskFull(config: DiskFullConfig): Promise<DiskFullResult> {
  const result: DiskFullResult = {
    ran: false,
    clients: config.clients,
    documents: config.documents,
    episodes: 0,
    fillerBytes: [],
    error7Refusals: 0,
    otherRefusals: 0,
    recoverySeconds: [],
    tokensAckedWhileFull: 0,
    tokensAckedAfterRecovery: 0,
    edits: 0,
    tokens: 0,
    tokensAcked: 0,
    serverExitCode: null,
    audits: { count: 0, tokensChecked: 0, missing: 0, problems: [] },
    problems: [],
  };
  const dataDir = join(config.runDir, 'diskfull');
  mkdirSync(dataDir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dataDir], { stdio: 'pipe' });
  } catch (error) {
    const why = ((error as { stderr?: Buffer }).stderr?.toString() || (error as Error).message).trim().split('\n')[0];
    result.skipped = `disk-full run skipped: cannot mount a tmpfs (needs root): ${why}`;
    rmSync(dataDir, { recursive: true, force: true });
    return result;
  }
  const unmountNow = onCleanup('tmpfs', () => {
    unmount(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });
  result.ran = true;
  const filler = join(dataDir, 'filler');
  let server: ChildProcess | undefined;
  const stopServer = onCleanup('disk-full server', () => {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });
  const documents = Array.from({ length: config.documents }, (_, i) => `full-${i}`);
  let fleet: Fleet | undefined;
  const closeFleet = onCleanup('disk-full clients', () => fleet?.close());
  try {
    const port = await freePort();
    const logFd = openSync(join(config.runDir, 'diskfull-server.log'), 'a');
    server = spawn(
      process.execPath,
      [
        config.serverScript,
        '--port',
        String(port),
        '--ws-port',
        'off',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
        '--max-clients',
        '100',
      ],
      {
        stdio: ['ignore', logFd, logFd],
      },
    );
    closeSync(logFd);
    const child = server;
    await waitForPort(port, { timeoutMs: 15_000, stillAlive: () => child.exitCode === null && child.signalCode === null });

    const auditor = new Auditor(dataDir);
    fleet = new Fleet({
      port,
      documents,
      clients: config.clients,
      random: config.random,
      editIntervalMs: [80, 500],
      firstId: config.firstId,
    });
    for (const c of fleet.clients) {
      c.onRefusal = (code) => {
        if (code === 7) result.error7Refusals++;
        else result.otherRefusals++;
      };
    }
    await fleet.connectAll(30_000);
    const started = Date.now();
    const until = started + config.seconds * 1000;
    const editing = fleet.edit(until, { everyMs: [2000, 5000], offlineMs: [200, 2000] });
    const episodeMs = (config.seconds * 1000) / config.episodes;
    for (let e = 0; e < config.episodes; e++) {
      const episodeEnd = started + (e + 1) * episodeMs;
      await sleep(Math.min(2000, episodeMs / 6));
      // Fill the disk; while it is full, edits carry bigger fillers.
      const refusalsBefore = result.error7Refusals;
      const ackedBefore = fleet.totals().tokensAcked;
      fleet.mix = BIG_FILLERS;
      result.fillerBytes.push(fillUp(filler));
      result.episodes++;
      const fullUntil = Date.now() + Math.max(4000, episodeMs * 0.4);
      const fullAtMost = fullUntil + 10_000;
      for (let k = 0; k < 1000; k++) {
        status(`disk-full run: episode ${e + 1}/${config.episodes}, disk full, ERROR 7 refusals ${result.error7Refusals}`);
        await sleep(1000);
        await auditor.audit(fleet.ackedByDocument(), `disk full, episode ${e + 1}`);
        if (Date.now() >= fullAtMost || (Date.now() >= fullUntil && result.error7Refusals > refusalsBefore)) break;
      }
      if (result.error7Refusals === refusalsBefore) result.problems.push(`episode ${e + 1}: no ERROR 7 while the disk was full`);
      result.tokensAckedWhileFull += fleet.totals().tokensAcked - ackedBefore;
      // Space returns: everything must be stored and acknowledged again.
      const ackedAtFree = fleet.totals().tokensAcked;
      unlinkSync(filler);
      fleet.mix = DEFAULT_MIX;
      const freedAt = Date.now();
      const recoverBy = freedAt + 30_000;
      while (Date.now() < recoverBy && !fleet.clients.every((c) => !c.online || c.isSaved)) {
        status(`disk-full run: episode ${e + 1}/${config.episodes}, space back, waiting for every client to be saved`);
        await sleep(100);
      }
      if (fleet.clients.every((c) => !c.online || c.isSaved)) result.recoverySeconds.push((Date.now() - freedAt) / 1000);
      else result.problems.push(`episode ${e + 1}: clients not saved within 30 s after space returned`);
      await auditor.audit(fleet.ackedByDocument(), `space back, episode ${e + 1}`);
      await sleep(Math.max(0, Math.min(episodeEnd, until) - Date.now()));
      result.tokensAckedAfterRecovery += fleet.totals().tokensAcked - ackedAtFree;
    }
    fleet.stopEditing();
    await editing;
    status('disk-full run: settling');
    const unsaved = await fleet.settle(60_000);
    if (unsaved.length) result.problems.push(`disk-full run: clients not saved within 60 s: ${unsaved.map((c) => c.name).join(', ')}`);
    const divergent = await fleet.converge(30_000);
    if (divergent.length) result.problems.push(`disk-full run: documents not converged within 30 s: ${divergent.join(', ')}`);
    await auditor.audit(fleet.ackedByDocument(), 'disk-full run, after settling');
    await closeFleet();

    // Graceful stop: SIGTERM, the server writes every NAME.txt exactly and exits 0.
    child.kill('SIGTERM');
    const exited = await Promise.race([once(child, 'exit').then(() => true), sleep(15_000).then(() => false)]);
    if (!exited) result.problems.push('the disk-full server did not exit within 15 s of SIGTERM');
    result.serverExitCode = child.exitCode;
    if (child.exitCode !== 0) result.problems.push(`the disk-full server exited with ${child.exitCode ?? child.signalCode}`);
    await stopServer();
    result.verify = await verifyFinal(fleet, dataDir);
    const t = fleet.totals();
    result.edits = t.edits;
    result.tokens = t.tokens;
    result.tokensAcked = t.tokensAcked;
    result.audits = {
      count: auditor.audits,
      tokensChecked: auditor.tokensChecked,
      missing: auditor.missing.size,
      problems: auditor.problems,
    };
    return result;
  } finally {
    await closeFleet();
    await stopServer();
    await unmountNow();
  }
}
