// A real redis-server for tests: its own process on a free port of 127.0.0.1, its own temporary
// directory (the AOF lives there, so a restart after kill -9 recovers from it), durable as
// collab-server asks (appendonly yes, appendfsync always) unless told otherwise. Tests that need
// it skip themselves, naming the Debian package, when redis-server is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports';

/** Why Redis tests are skipped when redis-server is missing. */
export const REDIS_MISSING = 'redis-server is not installed (apt-get install redis-server)';

/** The path of redis-server, or null when it is not installed. */
export function redisServerPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/** How to start a test Redis. */
export interface TestRedisOptions {
  /** appendfsync (default always); `off` turns the AOF off altogether (appendonly no). */
  appendfsync?: 'always' | 'everysec' | 'no' | 'off';
  /** Extra redis-server arguments (`--rename-command CONFIG ""`, say). */
  args?: string[];
}

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** SIGKILL (kill -9), and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (recovering from its AOF); waits until it listens. */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Starts redis-server on a free port in a fresh temporary directory; waits until it listens. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const binary = redisServerPath();
  if (!binary) throw new Error(REDIS_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'collab-redis-'));
  const port = await freePort('127.0.0.1');
  const fsync = options.appendfsync ?? 'always';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    fsync === 'off' ? 'no' : 'yes',
    '--appendfsync',
    fsync === 'off' ? 'always' : fsync,
    '--protected-mode',
    'yes',
    ...(options.args ?? []),
  ];
  let child: ChildProcess;
  /** Settles once the process has exited and its stderr pipe has closed. */
  let closed: Promise<unknown>;
  const launch = async () => {
    child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    closed = once(child, 'close').catch(() => undefined);
    await waitForPort(port, { stillAlive: () => child.exitCode === null && child.signalCode === null, timeoutMs: 10_000 });
  };
  await launch();
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child.pid!;
    },
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kills every test Redis still running (by its pid); for afterAll. */
export async function stopAllTestRedis(): Promise<void> {
  for (const child of [...running]) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
}
