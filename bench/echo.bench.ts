// Echo bench: our echo-server (built, run as PM2 runs it, logging at its default level into a
// file) against a minimal baseline (a Node `net` server piping each socket into itself), both
// in their own processes, measured by the same client in alternating rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { freePort, waitForPort } from '@collab/testing';
import { once } from 'node:events';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, percentileOf, progress, progressDone, table } from './bench-table';

const ROUNDS = 3;
const PINGS_PER_ROUND = 10_000;
const STREAM_SECONDS = 2;
const PING_BYTES = 64;
const STREAM_CHUNK = 64 * 1024;

const BASELINE = "require('net').createServer((s) => { s.setNoDelay(true); s.pipe(s); }).listen(+process.argv[1], '::')";

async function open(port: number): Promise<Socket> {
  const s = connect({ host: '::1', port, noDelay: true });
  await once(s, 'connect');
  return s;
}

/** Sequential 64-byte round trips; returns each one's time in µs. */
async function pingPong(port: number, count: number): Promise<number[]> {
  const s = await open(port);
  const payload = Buffer.alloc(PING_BYTES, 0x61);
  const rtts: number[] = [];
  let got = 0;
  let resolveReply: (() => void) | undefined;
  s.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= PING_BYTES) {
      got -= PING_BYTES;
      resolveReply?.();
    }
  });
  for (let i = 0; i < count + 500; i++) {
    const t0 = performance.now();
    const reply = new Promise<void>((r) => (resolveReply = r));
    s.write(payload);
    await reply;
    if (i >= 500) rtts.push((performance.now() - t0) * 1000); // the first 500 warm up
  }
  s.destroy();
  return rtts;
}

/** Streams 64 KiB writes for `seconds` and reads them back; returns MB/s received. */
async function stream(port: number, seconds: number): Promise<number> {
  const s = await open(port);
  const chunk = Buffer.alloc(STREAM_CHUNK, 0x62);
  let received = 0;
  s.on('data', (d: Buffer) => (received += d.length));
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    sent += chunk.length;
    if (!s.write(chunk)) await once(s, 'drain');
  }
  while (received < sent) await new Promise((r) => setTimeout(r, 1));
  const elapsed = (performance.now() - t0) / 1000;
  s.destroy();
  return received / 1e6 / elapsed;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'collab-bench-echo-'));
  const children: ChildProcess[] = [];
  try {
    const oursPort = await freePort();
    const quietPort = await freePort();
    const basePort = await freePort();
    const log = openSync(join(dir, 'echo-server.log'), 'a');
    children.push(
      spawn(process.execPath, [join('dist', 'apps', 'echo-server', 'main.js'), '--port', String(oursPort)], {
        stdio: ['ignore', log, log],
      }),
      spawn(process.execPath, [join('dist', 'apps', 'echo-server', 'main.js'), '--port', String(quietPort), '--log-level', 'warn'], {
        stdio: ['ignore', log, log],
      }),
      spawn(process.execPath, ['-e', BASELINE, String(basePort)], { stdio: 'ignore' }),
    );
    await Promise.all([waitForPort(oursPort), waitForPort(quietPort), waitForPort(basePort)]);

    const empty = () => ({ rtt: [] as number[], mbps: [] as number[] });
    const results = { ours: empty(), quiet: empty(), base: empty() };
    const ports = { ours: oursPort, quiet: quietPort, base: basePort };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate who goes first so that drift on a shared machine hits both alike.
      const order = round % 2 ? (['ours', 'quiet', 'base'] as const) : (['base', 'quiet', 'ours'] as const);
      for (const who of order) {
        const port = ports[who];
        progress(`round ${round}/${ROUNDS}: ${who} ping-pong`);
        results[who].rtt.push(...(await pingPong(port, PINGS_PER_ROUND)));
        progress(`round ${round}/${ROUNDS}: ${who} streaming`);
        results[who].mbps.push(await stream(port, STREAM_SECONDS));
      }
    }
    progressDone();

    const fig = (who: keyof typeof results) => ({
      p50: percentileOf(results[who].rtt, 50),
      p99: percentileOf(results[who].rtt, 99),
      mbps: median(results[who].mbps),
    });
    const ours = fig('ours');
    const quiet = fig('quiet');
    const base = fig('base');
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(
      `echo over [::1], ${ROUNDS} alternating rounds; ping-pong ${PINGS_PER_ROUND} x ${PING_BYTES} B per round, ` +
        `streaming ${STREAM_CHUNK / 1024} KiB writes for ${STREAM_SECONDS} s per round\n`,
    );
    console.log(
      table(
        ['figure', 'echo-server', 'baseline (net pipe)', 'ours / baseline', 'echo-server --log-level warn', 'quiet / baseline'],
        [
          [
            '64 B round trip p50 (µs)',
            ours.p50.toFixed(1),
            base.p50.toFixed(1),
            ratio(ours.p50, base.p50),
            quiet.p50.toFixed(1),
            ratio(quiet.p50, base.p50),
          ],
          [
            '64 B round trip p99 (µs)',
            ours.p99.toFixed(1),
            base.p99.toFixed(1),
            ratio(ours.p99, base.p99),
            quiet.p99.toFixed(1),
            ratio(quiet.p99, base.p99),
          ],
          [
            '64 KiB streaming (MB/s, median)',
            ours.mbps.toFixed(0),
            base.mbps.toFixed(0),
            ratio(ours.mbps, base.mbps),
            quiet.mbps.toFixed(0),
            ratio(quiet.mbps, base.mbps),
          ],
        ],
      ),
    );
    console.log('\nRound trips: lower is better (ratio <= 1.10 is the target). Streaming: higher is better (ratio >= 0.91).');
    console.log('echo-server runs as deployed: log level info (Received: lines, at most 20 per connection per second), logging to a file.');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
