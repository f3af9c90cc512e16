// The built collab-server (dist/apps/collab-server/main.js) as a user starts it: a real process
// on a free port with a data directory, its log lines collected, its memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@collab/testing';

/** The bundle the tests run; `npm run build` makes it. */
export const SERVER_MAIN = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-server', 'main.js');

/** How to start one server process. */
export interface BuiltServerOptions {
  /** Flags after the defaults (`--port 0 --data-dir DIR`). */
  args?: string[];
  /** The data directory; a fresh temporary one when not given (removed by stopAll). */
  dataDir?: string;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Node options before the script (`--require`, say). */
  nodeArgs?: string[];
}

/** A started server process. */
export interface BuiltServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with its exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resident memory now, in MiB (VmRSS of /proc/PID/status). */
  rssMiB(): number;
  /** Open file descriptors now (sockets, files). */
  openFds(): number;
  /** Waits until its output matches `pattern`; fails naming it. */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number | null>;
}

const running: ChildProcess[] = [];
const tempDirs: string[] = [];

/** A fresh temporary directory, removed by stopAll(). */
export function tempDir(prefix = 'collab-robust-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Kills every server still running (SIGKILL, by its pid) and removes the temporary directories; call from afterEach/afterAll. */
export async function stopAll(): Promise<void> {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    }
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function matches(text: string, pattern: string | RegExp): boolean {
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

/** A server's output without the two lines it prints per edit (what a failed wait needs to show is among the others). */
export function withoutEdits(out: string): string {
  const lines = out.split('\n');
  const kept = lines.filter((line) => !/^\[UPDATE\] Document updated by |^\[INFO\] Broadcasted update to client /.test(line));
  const dropped = lines.length - kept.length;
  return (dropped > 0 ? `(${dropped} per-edit lines left out)\n` : '') + kept.join('\n');
}

/** Runs the built server and waits until it listens; rejects with its output when it exits first. */
export async function startBuiltServer(options: BuiltServerOptions = {}): Promise<BuiltServer> {
  const dataDir = options.dataDir ?? tempDir();
  const args = ['--port', '0', '--data-dir', dataDir, ...(options.args ?? [])];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), SERVER_MAIN, ...args], {
    cwd: existsSync(dataDir) ? dataDir : tmpdir(), // a --data-dir the server is to create
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const waitForOutput = async (pattern: string | RegExp, timeoutMs = 15_000) => {
    const until = Date.now() + timeoutMs;
    while (!matches(out, pattern)) {
      if (!alive()) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`);
      if (Date.now() > until)
        throw new Error(`the server did not print ${pattern} within ${timeoutMs} ms:\n${withoutEdits(out).slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitForOutput(/Server listening on port (\d+)/, 30_000);
  const port = Number(/Server listening on port (\d+)/.exec(out)![1]);
  const pid = child.pid!;
  return {
    child,
    pid,
    port,
    dataDir,
    exited,
    output: () => out,
    rssMiB: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
    },
    openFds: () => readdirSync(`/proc/${pid}/fd`).length,
    waitForOutput,
    stop: async () => {
      if (alive()) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the built server expecting it to exit at start (a bad setting, a damaged file); its code and output. */
export async function runBuiltServerToExit(options: BuiltServerOptions = {}): Promise<{ code: number | null; output: string }> {
  const dataDir = options.dataDir ?? tempDir();
  const args = options.args ?? ['--port', '0', '--data-dir', dataDir];
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], {
    cwd: dataDir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  // The pipes may still hold the last line.
  await waitFor(() => child.stdout!.readableEnded && child.stderr!.readableEnded, 'the output to end', 5000).catch(() => undefined);
  return { code, output: out };
}

/** The server's log lines that match `pattern`. */
export function logLines(server: Pick<BuiltServer, 'output'>, pattern: string | RegExp): string[] {
  return server
    .output()
    .split('\n')
    .filter((line) => matches(line, pattern));
}
