import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './shared-data';

const run = promisify(execFile);
// Found from the working directory, not __dirname, so it also works bundled (soak, benches).
const root = repoRoot();
const pm2Bin = join(root, 'node_modules', 'pm2', 'bin', 'pm2');

/** One app as `pm2 jlist` reports it. */
export interface Pm2AppState {
  pid: number;
  status: string;
  restarts: number;
}

/**
 * A PM2 daemon of the test's own (its own PM2_HOME), running the repository's
 * ecosystem.config.js; `kill()` stops that daemon and nothing else.
 */
export class Pm2Sandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'collab-pm2-'));
  private readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv) {
    this.env = { ...process.env, ...env, PM2_HOME: this.home };
  }

  /** Runs a pm2 command in the sandbox and returns what it printed. */
  async pm2(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [pm2Bin, ...args], { env: this.env, cwd: root, timeout: 60_000 });
    return stdout;
  }

  /** Starts one app of ecosystem.config.js. */
  async start(app: string): Promise<Pm2AppState> {
    await this.pm2('start', 'ecosystem.config.js', '--only', app);
    const state = await this.state(app);
    if (!state) throw new Error(`PM2 did not start ${app}`);
    return state;
  }

  /** The app's pid, status and restart count, or undefined when PM2 does not know it. */
  async state(app: string): Promise<Pm2AppState | undefined> {
    const list = JSON.parse(await this.pm2('jlist')) as Array<{ name: string; pid: number; pm2_env: { status: string; restart_time: number } }>;
    const found = list.find((a) => a.name === app);
    return found && { pid: found.pid, status: found.pm2_env.status, restarts: found.pm2_env.restart_time };
  }

  /** Waits until PM2 runs the app again under a new pid (after a kill). */
  async waitForRestart(app: string, previousPid: number, timeoutMs = 30_000): Promise<Pm2AppState> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(app);
      if (state && state.status === 'online' && state.pid > 0 && state.pid !== previousPid) return state;
      if (Date.now() > until) throw new Error(`PM2 did not restart ${app}: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the sandbox's PM2 daemon and removes its home; idempotent. */
  async kill(): Promise<void> {
    await this.pm2('kill').catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}
