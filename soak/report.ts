// The soak's report: one object (printed as a table, and as JSON with --json) and its verdict.
import { statSync } from 'node:fs';
import type { DiskFullResult } from './disk-full-run';
import type { MainRunResult } from './main-run';
import { mib } from './memory';

/** Final RSS counts as "back near the start" when at most this far above it. */
export const MEMORY_BOUND = { factor: 1.5, slackBytes: 32 * 1024 * 1024 };

export interface SoakReport {
  ok: boolean;
  seconds: number;
  seed: number;
  durationSeconds: number;
  server: { script: string; builtAt?: string };
  clients: number;
  documents: number;
  slowReaders: number;
  editsMade: number;
  offlineEdits: number;
  tokensInserted: number;
  tokensAcknowledged: number;
  randomDisconnects: number;
  kills: number;
  unexpectedServerRestarts: number;
  diskFullEpisodes: number;
  faultsInjected: number;
  error7Refusals: number;
  acknowledgedEditsChecked: number;
  editsLost: number;
  unacknowledgedTokensMissing: number;
  duplicatedTokens: number;
  converged: boolean;
  textFilesMatchClients: boolean;
  storedStateMatchesTextFiles: boolean;
  diskAudits: { count: number; tokensChecked: number; ackedMissingFromDisk: number };
  memory: {
    startRss?: number;
    peakRss: number;
    finalProcessStartRss?: number;
    finalRss?: number;
    finalRssMeasured: string;
    rssClientsGone?: number;
    rssDocumentsUnloaded?: number;
    bound: string;
    backNearStart?: boolean;
    serverProcesses: number;
  };
  mainRun?: Omit<MainRunResult, 'verify'> & { verify: Omit<MainRunResult['verify'], 'problems'> };
  diskFull?: Omit<DiskFullResult, 'verify'> & { verify?: Omit<NonNullable<DiskFullResult['verify']>, 'problems'> };
  diskFullSkipped?: string;
  problemCount: number;
  problems: string[];
}

export interface ReportInput {
  seconds: number;
  seed: number;
  durationSeconds: number;
  mainRun?: MainRunResult;
  diskFull?: DiskFullResult;
  failure?: string;
  runDir: string;
  serverScript: string;
}

export function buildReport(input: ReportInput): SoakReport {
  const { mainRun: m, diskFull: d } = input;
  const problems: string[] = [];
  if (input.failure) problems.push(`the suite failed: ${input.failure}`);
  if (!m) problems.push('the main run did not complete');
  if (m) {
    problems.push(...m.problems, ...m.verify.problems, ...m.audits.problems);
    if (m.kills === 0) problems.push('no kill happened in the main run');
  }
  if (d?.ran) {
    problems.push(...d.problems, ...(d.verify?.problems ?? []), ...d.audits.problems);
    if (!d.verify) problems.push('the disk-full run did not reach its final check');
    if (d.error7Refusals === 0) problems.push('the disk-full run saw no ERROR 7');
  } else if (m && !d) problems.push('the disk-full run did not complete');
  const mv = m?.verify;
  const dv = d?.verify;
  const editsLost = (mv?.editsLost ?? 0) + (dv?.editsLost ?? 0);
  const ackedMissingFromDisk = (m?.audits.missing ?? 0) + (d?.audits.missing ?? 0);
  const converged =
    !!m &&
    m.divergentBeforeStop.length === 0 &&
    m.unsaved.length === 0 &&
    mv!.divergent.length === 0 &&
    (!d?.ran || (!!dv && dv.divergent.length === 0));
  const storedOk = !!mv && mv.storedMismatch.length === 0 && (!d?.ran || (!!dv && dv.storedMismatch.length === 0));

  const finalStart = m?.memory.finalStartRss;
  const finalRss = m?.memory.rssUnloaded ?? m?.memory.rssClientsGone;
  const backNearStart =
    finalStart !== undefined && finalRss !== undefined
      ? finalRss <= Math.max(finalStart * MEMORY_BOUND.factor, finalStart + MEMORY_BOUND.slackBytes)
      : undefined;
  const memoryMeasuredUnloaded = m?.memory.rssUnloaded !== undefined;
  // The bound is a verdict only once the documents have unloaded; before, it is for information.
  if (memoryMeasuredUnloaded && backNearStart === false) {
    problems.push(`server RSS did not come back near its start: ${mib(finalRss)} at the end vs ${mib(finalStart)} after warm-up`);
  }
  const kills = m?.kills ?? 0;
  const episodes = d?.episodes ?? 0;
  let builtAt: string | undefined;
  try {
    builtAt = statSync(input.serverScript).mtime.toISOString();
  } catch {
    builtAt = undefined;
  }
  const ok =
    !input.failure && !!m && !!d && editsLost === 0 && ackedMissingFromDisk === 0 && converged && storedOk && problems.length === 0;

  const strip = <T extends { problems: string[] }>(v: T | undefined) => {
    if (!v) return undefined;
    const { problems: _, ...rest } = v;
    return rest;
  };
  return {
    ok,
    seconds: input.seconds,
    seed: input.seed,
    durationSeconds: Math.round(input.durationSeconds),
    server: { script: input.serverScript, builtAt },
    clients: (m?.clients ?? 0) + (d?.ran ? d.clients : 0),
    documents: (m?.documents ?? 0) + (d?.ran ? d.documents : 0),
    slowReaders: m?.slowReaders ?? 0,
    editsMade: (m?.edits ?? 0) + (d?.edits ?? 0),
    offlineEdits: m?.offlineEdits ?? 0,
    tokensInserted: (m?.tokens ?? 0) + (d?.tokens ?? 0),
    tokensAcknowledged: (m?.tokensAcked ?? 0) + (d?.tokensAcked ?? 0),
    randomDisconnects: m?.disconnects ?? 0,
    kills,
    unexpectedServerRestarts: m?.unexpectedRestarts ?? 0,
    diskFullEpisodes: episodes,
    faultsInjected: kills + episodes,
    error7Refusals: d?.error7Refusals ?? 0,
    acknowledgedEditsChecked: (mv?.ackedChecked ?? 0) + (dv?.ackedChecked ?? 0),
    editsLost,
    unacknowledgedTokensMissing: (mv?.unackedMissing ?? 0) + (dv?.unackedMissing ?? 0),
    duplicatedTokens: (mv?.duplicated ?? 0) + (dv?.duplicated ?? 0),
    converged,
    textFilesMatchClients: !!mv && mv.divergent.length === 0 && (!d?.ran || (!!dv && dv.divergent.length === 0)),
    storedStateMatchesTextFiles: storedOk,
    diskAudits: {
      count: (m?.audits.count ?? 0) + (d?.audits.count ?? 0),
      tokensChecked: (m?.audits.tokensChecked ?? 0) + (d?.audits.tokensChecked ?? 0),
      ackedMissingFromDisk,
    },
    memory: {
      startRss: m?.memory.firstStartRss,
      peakRss: m?.memory.peakRss ?? 0,
      finalProcessStartRss: finalStart,
      finalRss,
      finalRssMeasured: memoryMeasuredUnloaded
        ? 'after every client left and the documents unloaded'
        : '3 s after every client left (documents still loaded)',
      rssClientsGone: m?.memory.rssClientsGone,
      rssDocumentsUnloaded: m?.memory.rssUnloaded,
      bound: `final <= max(${MEMORY_BOUND.factor} x final process's start, start + ${MEMORY_BOUND.slackBytes / 1048576} MiB)`,
      backNearStart,
      serverProcesses: m?.memory.processes ?? 0,
    },
    mainRun: m && {
      ...m,
      problems: m.problems.slice(0, 20),
      audits: { ...m.audits, problems: m.audits.problems.slice(0, 20) },
      verify: strip(m.verify)!,
    },
    diskFull: d && {
      ...d,
      problems: d.problems.slice(0, 20),
      audits: { ...d.audits, problems: d.audits.problems.slice(0, 20) },
      verify: strip(d.verify),
    },
    diskFullSkipped: d?.skipped,
    problemCount: problems.length,
    problems: problems.slice(0, 100),
  };
}

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

const yes = (b: boolean | undefined) => (b === undefined ? '-' : b ? 'yes' : 'NO');

export function printReport(r: SoakReport): void {
  const m = r.mainRun;
  const d = r.diskFull;
  const rows: Array<[string, string]> = [
    ['result', r.ok ? 'PASS' : 'FAIL'],
    ['duration', `${r.durationSeconds} s (traffic ${r.seconds} s; seed ${r.seed})`],
    ['clients', `${r.clients} (main run ${m?.clients ?? 0} + disk-full run ${d?.ran ? d.clients : 0}), plus ${r.slowReaders} slow readers`],
    ['documents', `${r.documents} (main run ${m?.documents ?? 0} + disk-full run ${d?.ran ? d.documents : 0})`],
    ['edits made', `${r.editsMade} (${r.offlineEdits} offline)`],
    ['tokens inserted / acknowledged', `${r.tokensInserted} / ${r.tokensAcknowledged}`],
    ['random disconnects', String(r.randomDisconnects)],
    [
      'kills (SIGKILL under PM2)',
      `${r.kills}${m ? ` at ${m.killTimesS.join(', ')} s; back in ${m.restartSeconds.map((s) => s.toFixed(1)).join(', ')} s` : ''}`,
    ],
    ['unexpected server restarts', String(r.unexpectedServerRestarts)],
    ['disk-full episodes', r.diskFullSkipped ?? String(r.diskFullEpisodes)],
    ['faults injected', `${r.faultsInjected} (kills + disk-full episodes)`],
    ['ERROR 7 refusals seen', String(r.error7Refusals)],
    ['recovery after space returned', d?.recoverySeconds.length ? `${d.recoverySeconds.map((s) => s.toFixed(1)).join(', ')} s` : '-'],
    ['acked while full / after recovery', d?.ran ? `${d.tokensAckedWhileFull} / ${d.tokensAckedAfterRecovery} tokens` : '-'],
    ['acknowledged edits checked', String(r.acknowledgedEditsChecked)],
    ['edits lost', String(r.editsLost)],
    [
      'on-disk audits (acked tokens)',
      `${r.diskAudits.count} audits, ${r.diskAudits.tokensChecked} checks, ${r.diskAudits.ackedMissingFromDisk} missing`,
    ],
    ['unacknowledged tokens missing', String(r.unacknowledgedTokensMissing)],
    ['duplicated tokens', String(r.duplicatedTokens)],
    ['converged', yes(r.converged)],
    ['NAME.txt = every client', yes(r.textFilesMatchClients)],
    ['log+snapshot = NAME.txt', yes(r.storedStateMatchesTextFiles)],
    ['server RSS start (1st process, warm)', mib(r.memory.startRss)],
    ['server RSS peak', mib(r.memory.peakRss)],
    ['server RSS final process at start', mib(r.memory.finalProcessStartRss)],
    ['server RSS clients gone', mib(r.memory.rssClientsGone)],
    [
      'server RSS documents unloaded',
      r.memory.rssDocumentsUnloaded === undefined ? 'not waited for (runs under 300 s)' : mib(r.memory.rssDocumentsUnloaded),
    ],
    ['memory back near start', `${yes(r.memory.backNearStart)} (${r.memory.bound})`],
    ['slow readers', m ? `${m.slowReaderPauses} pauses, ${m.slowReaderDrops} connections closed by the server` : '-'],
    ['server log (main run)', m ? `${m.serverLog.warnings} warnings, ${m.serverLog.errors} errors` : '-'],
  ];
  console.log(`\ncollab soak report\n${table(rows)}`);
  if (m?.serverLog.samples.length) console.log(`server log samples:\n${m.serverLog.samples.map((s) => `  ${s}`).join('\n')}`);
  if (r.problems.length) {
    console.log(`problems (${r.problemCount}):`);
    for (const p of r.problems.slice(0, 40)) console.log(`  - ${p}`);
    if (r.problemCount > 40) console.log(`  ... and ${r.problemCount - 40} more`);
  }
}
