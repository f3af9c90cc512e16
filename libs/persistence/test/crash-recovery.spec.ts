// The durability promise, for real: a separate node process appends and prints each
// acknowledgement; it is SIGKILLed at random moments and at exact points of compaction and
// writing; after each kill the directory is reloaded and must hold every acknowledged token,
// and the text file must be a text the document really had.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLive } from './live-document';
import { DocumentStore } from '../src/index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');

const COMPACT_BYTES = 4096;
const DIE_POINTS = [
  'snapshot-half-written',
  'snapshot-synced',
  'snapshot-renamed',
  'log-truncated',
  'log-emptied',
  'log-half-written',
  'log-cut-short',
  'meta-renamed',
  'text-renamed',
];

type Kill = { kind: 'at-point'; point: string; count: number } | { kind: 'after-spawn'; ms: number } | { kind: 'after-ready'; ms: number };

interface RoundResult {
  acked: number[];
  diedAt: string | null;
  stderr: string;
}

// Seeded so a failure can be replayed: COLLAB_CRASH_SEED=<n>.
const seed = Number(process.env.COLLAB_CRASH_SEED ?? Date.now() % 100000);
let state = seed;
function random(): number {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
}
const randomInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

function plan(): Kill[] {
  const kills: Kill[] = [];
  for (const point of DIE_POINTS) for (let k = 0; k < 2; k++) kills.push({ kind: 'at-point', point, count: randomInt(1, 4) });
  for (let k = 0; k < 8; k++) kills.push({ kind: 'after-spawn', ms: randomInt(0, 80) });
  for (let k = 0; k < 36; k++) kills.push({ kind: 'after-ready', ms: randomInt(5, 150) });
  // Shuffle so kills at exact points fall on documents of every size.
  for (let i = kills.length - 1; i > 0; i--) {
    const j = randomInt(0, i);
    [kills[i], kills[j]] = [kills[j], kills[i]];
  }
  return kills;
}

// n when `rest` is exactly the first n tokens of `round`, else null.
function tokenCount(rest: string, round: number): number | null {
  let n = 0;
  let pos = 0;
  while (pos < rest.length) {
    const expected = `R${round}:${n};`;
    if (!rest.startsWith(expected, pos)) return null;
    pos += expected.length;
    n++;
  }
  return n;
}

describe('crash recovery', () => {
  let work: string;
  let child: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'collab-crash-'));
    child = join(work, 'crash-child.js');
    esbuild.buildSync({
      entryPoints: [join(__dirname, 'crash-child.ts')],
      outfile: child,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'silent',
    });
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  function runRound(dataDir: string, round: number, kill: Kill): Promise<RoundResult> {
    return new Promise((resolve, reject) => {
      const dieAt = kill.kind === 'at-point' ? `${kill.point}:${kill.count}` : 'none:0';
      const proc = spawn(process.execPath, [child, dataDir, String(round), String(COMPACT_BYTES), dieAt], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const timers: NodeJS.Timeout[] = [];
      const killNow = () => proc.kill('SIGKILL');
      proc.stdout.on('data', (chunk: Buffer) => {
        const first = stdout.length === 0 || !stdout.includes('ready\n');
        stdout += chunk.toString();
        if (first && stdout.includes('ready\n') && kill.kind === 'after-ready') timers.push(setTimeout(killNow, kill.ms));
      });
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      if (kill.kind === 'after-spawn') timers.push(setTimeout(killNow, kill.ms));
      // A point never reached (the document too small to compact yet): end the round anyway.
      timers.push(setTimeout(killNow, kill.kind === 'at-point' ? 3000 : 5000));
      proc.on('error', reject);
      proc.on('close', (code, signal) => {
        timers.forEach(clearTimeout);
        if (signal !== 'SIGKILL') return reject(new Error(`child ended with ${code ?? signal}: ${stderr}`));
        const lines = stdout.split('\n');
        lines.pop(); // an unfinished last line is no acknowledgement
        const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
        const died = lines.find((l) => l.startsWith('dying at '));
        resolve({ acked, diedAt: died ? died.slice(9) : null, stderr });
      });
    });
  }

  it('keeps every acknowledged update through 62 SIGKILLs, during compaction too', async () => {
    const dataDir = join(work, 'data');
    const kills = plan();
    const reachedPoints = new Set<string>();
    let base = '';
    let totalAcked = 0;
    let tornWarnings = 0;
    for (let round = 0; round < kills.length; round++) {
      const context = `seed ${seed}, round ${round}, ${JSON.stringify(kills[round])}`;
      const result = await runRound(dataDir, round, kills[round]);
      if (result.diedAt) reachedPoints.add(result.diedAt);
      totalAcked += result.acked.length;

      // The text file, as the kill left it, is a text the document had.
      const textPath = join(dataDir, 'crash.txt');
      if (existsSync(textPath)) {
        const onDisk = readFileSync(textPath, 'utf8');
        expect({ context, startsWithBase: onDisk.startsWith(base) }).toEqual({ context, startsWithBase: true });
        expect({ context, tokens: tokenCount(onDisk.slice(base.length), round) !== null }).toEqual({ context, tokens: true });
      }

      const warnings: string[] = [];
      const store = await DocumentStore.open({ dataDir, onWarning: (m) => warnings.push(m) });
      try {
        const doc = await openLive(store, 'crash');
        const text = doc.doc.getText('content').toString();
        expect({ context, startsWithBase: text.startsWith(base) }).toEqual({ context, startsWithBase: true });
        const n = tokenCount(text.slice(base.length), round);
        expect({ context, n: n !== null }).toEqual({ context, n: true });
        const missing = result.acked.filter((i) => i >= n!);
        expect({ context, missing }).toEqual({ context, missing: [] });
        expect({ context, handEdits: warnings.filter((w) => !w.includes('torn')) }).toEqual({ context, handEdits: [] });
        tornWarnings += warnings.length;
        base = text;
      } finally {
        await store.close();
      }
      // A document that never had an edit stored has no files at all.
      expect(existsSync(textPath) ? readFileSync(textPath, 'utf8') : '').toBe(base);
    }
    if (process.env.COLLAB_CRASH_VERBOSE)
      console.log({ seed, reachedPoints: [...reachedPoints], totalAcked, tornWarnings, textLength: base.length });
    // The exact-point kills did happen, compaction included.
    expect(
      [...reachedPoints].filter((p) => p.startsWith('snapshot') || p.startsWith('log-t') || p.startsWith('log-e')).length,
    ).toBeGreaterThanOrEqual(4);
    expect(totalAcked).toBeGreaterThan(1000);
    expect(existsSync(join(dataDir, 'crash.snapshot'))).toBe(true);
    expect(tornWarnings).toBeGreaterThan(0);
  }, 90_000);
});
