// Client bench: key-to-screen latency of the full-screen editor. Two built editors run in
// real pseudo-terminals (tmux on a private socket) against the built server on loopback.
// Keys go in through ONE persistent tmux control-mode client (no process spawned per key);
// each editor's terminal output is copied by `tmux pipe-pane` into a FIFO this process reads.
// For each keystroke: t0 when the send-keys command is written; t1 when the typed line's text
// (as the editor redraws the row) first appears in the output. Keys are sent one at a time,
// each after the previous one arrived. The same path with `cat` in the pane (the terminal
// line discipline echoes the key) is the baseline: what tmux and the pty alone cost.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, waitForPort } from '@collab/testing';
import { percentileOf, progress, progressDone, table } from './bench-table';

const KEYS = 300;
const WARMUP = 20;
const LINE_CHARS = 40;
const KEY_TIMEOUT_MS = 5_000;
const BENCH_BUDGET_MS = 120_000;
const COLUMNS = 100;
const ROWS = 30;

const socket = `collab-client-bench-${process.pid}`;
const env = { ...process.env, LANG: 'C.UTF-8' };
let config = '/dev/null';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', config, ...args], { encoding: 'utf8', env });

/** SGR sequences (colours and attributes) in terminal output. */
const SGR = /\x1b\[[0-9;]*m/g;

/** A pane's output as it arrives, read from a FIFO fed by pipe-pane, with arrival times. */
class PaneOutput {
  private text = '';
  private waiters: Array<() => void> = [];

  constructor(pane: string, fifo: string) {
    execFileSync('mkfifo', [fifo]);
    const stream = createReadStream(fifo, { encoding: 'utf8' });
    stream.on('data', (chunk: string | Buffer) => {
      this.text += chunk;
      if (this.text.length > 1_000_000) this.text = this.text.slice(-100_000);
      for (const w of this.waiters.splice(0)) w();
    });
    tmux('pipe-pane', '-O', '-t', pane, `cat > '${fifo}'`);
  }

  /** Current length of the output; later searches start from a mark. */
  mark(): number {
    return this.text.length;
  }

  /** Resolves with the time `needle` first appears after `from`, or rejects after `timeoutMs`. */
  async until(needle: string, from: number, timeoutMs = KEY_TIMEOUT_MS): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Colours do not count: another editor's cursor may be painted on one of the characters.
      if (
        this.text
          .slice(Math.max(0, from - needle.length))
          .replace(SGR, '')
          .includes(needle)
      )
        return performance.now();
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`"${needle}" did not appear within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the output has been quiet for `ms` (a screen that finished drawing). */
  async quiet(ms: number): Promise<void> {
    let length = -1;
    while (length !== this.text.length) {
      length = this.text.length;
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}

/** One persistent control-mode tmux client: commands written to its stdin, no spawn per key. */
function controlClient(): ChildProcess & { send(command: string): void } {
  const child = spawn('tmux', ['-L', socket, '-f', config, '-C', 'attach-session', '-t', 'ctl'], {
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdout!.resume(); // its notifications are not needed, only drained
  return Object.assign(child, { send: (command: string) => void child.stdin!.write(`${command}\n`) });
}

const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';

/** Types KEYS characters into `typist`; for each, times when each watched output shows the line so far. */
async function measure(
  send: (command: string) => void,
  typist: string,
  watched: PaneOutput[],
  started: number,
  label: string,
): Promise<number[][]> {
  const results: number[][] = watched.map(() => []);
  let line = '';
  for (let i = 0; i < KEYS + WARMUP; i++) {
    if (performance.now() - started > BENCH_BUDGET_MS) throw new Error(`the bench ran over its ${BENCH_BUDGET_MS / 1000} s budget`);
    if (line.length === LINE_CHARS) {
      // A new line between measurements, not measured itself.
      send(`send-keys -t ${typist} Enter`);
      await Promise.all(watched.map((w) => w.quiet(30)));
      line = '';
    }
    const ch = CHARS[line.length]!;
    line += ch;
    const marks = watched.map((w) => w.mark());
    const t0 = performance.now();
    send(`send-keys -t ${typist} -l ${ch}`);
    const arrived = await Promise.all(watched.map((w, k) => w.until(line, marks[k]!)));
    if (i >= WARMUP) arrived.forEach((t, k) => results[k]!.push(t - t0));
    if (i % 20 === 0) progress(`${label}: ${i}/${KEYS + WARMUP} keys`);
  }
  return results;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'collab-bench-client-'));
  let server: ChildProcess | undefined;
  let control: ReturnType<typeof controlClient> | undefined;
  const started = performance.now();
  config = join(dir, 'tmux.conf');
  writeFileSync(config, 'set -g status off\n');
  try {
    const port = await freePort();
    server = spawn(
      process.execPath,
      [
        join('dist', 'apps', 'collab-server', 'main.js'),
        '--port',
        String(port),
        '--ws-port',
        'off',
        '--data-dir',
        dir,
        '--log-level',
        'error',
      ],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(port);
    const client = (name: string) =>
      [
        process.execPath,
        join('dist', 'apps', 'collab-client', 'main.js'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--doc',
        'bench',
        '--name',
        name,
      ]
        .map((a) => `'${a}'`)
        .join(' ');
    const session = (name: string, command: string) =>
      tmux(
        'new-session',
        '-d',
        '-s',
        name,
        '-x',
        String(COLUMNS),
        '-y',
        String(ROWS),
        '-e',
        'LANG=C.UTF-8',
        '-e',
        'TERM=xterm-256color',
        command,
      );
    session('ctl', 'sleep 600');
    session('base', 'stty -icanon; exec cat > /dev/null');
    session('ann', `exec ${client('ann')}`);
    session('bob', `exec ${client('bob')}`);
    const deadline = Date.now() + 15_000;
    const screen = (pane: string) => tmux('capture-pane', '-p', '-t', pane);
    while (!(screen('ann').includes('with  bob') && screen('bob').includes('with  ann'))) {
      if (Date.now() > deadline) throw new Error(`the editors did not connect:\n${screen('ann')}\n${screen('bob')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = new PaneOutput('base', join(dir, 'base.fifo'));
    const own = new PaneOutput('ann', join(dir, 'ann.fifo'));
    const other = new PaneOutput('bob', join(dir, 'bob.fifo'));
    control = controlClient();
    await new Promise((r) => setTimeout(r, 200));

    const [baseline] = await measure(control.send, 'base', [base], started, 'baseline (cat)');
    const [ownScreen, otherScreen] = await measure(control.send, 'ann', [own, other], started, 'editor');
    progressDone();

    const ms = (v: number) => v.toFixed(2);
    const row = (name: string, values: number[]) => [
      name,
      ms(percentileOf(values, 50)),
      ms(percentileOf(values, 99)),
      ms(Math.max(...values)),
    ];
    console.log(
      `key-to-screen latency over loopback, ${KEYS} keystrokes one at a time (after ${WARMUP} warm-up), ${COLUMNS}x${ROWS} terminals.\n` +
        'Keys: tmux send-keys through one control-mode client; screens: tmux pipe-pane into a FIFO; a key counts as\n' +
        "arrived when its line's text appears in the terminal output. Baseline: the same tmux/pty path echoing through `cat`.\n",
    );
    console.log(
      table(
        ['path', 'p50 (ms)', 'p99 (ms)', 'max (ms)'],
        [
          row('baseline: tmux + pty echo (cat)', baseline!),
          row('editor: key to its own screen', ownScreen!),
          row("editor: key to the OTHER editor's screen", otherScreen!),
        ],
      ),
    );
    const p50 = percentileOf(otherScreen!, 50) - percentileOf(baseline!, 50);
    console.log(`\nThe other screen minus the baseline (p50): ${ms(p50)} ms for editor -> server -> editor over loopback and two redraws.`);
  } finally {
    progressDone();
    control?.stdin?.end();
    try {
      const socketPath = tmux('display-message', '-p', '#{socket_path}').trim();
      tmux('kill-server');
      // kill-server leaves the socket file behind in tmux's directory.
      if (socketPath.endsWith(socket)) rmSync(socketPath, { force: true });
    } catch {
      // already gone
    }
    if (server && server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
