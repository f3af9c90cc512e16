import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** The code of its last exit, once it has exited. */
  exitCode?: number;
  /** Its log files: PM2's copy of its stdout and stderr. */
  outLog: string;
  errorLog: string;
}

type JlistEntry = {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number; exit_code?: number; pm_out_log_path: string; pm_err_log_path: string };
};

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
    return this.pm2WithEnv({}, ...args);
  }

  private async pm2WithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [pm2Bin, ...args], { env: { ...this.env, ...env }, cwd: root, timeout: 60_000 });
    return stdout;
  }

  /** Starts one app of ecosystem.config.js. */
  async start(app: string): Promise<Pm2AppState> {
    await this.pm2('start', 'ecosystem.config.js', '--only', app);
    const state = await this.state(app);
    if (!state) throw new Error(`PM2 did not start ${app}`);
    return state;
  }

  /**
   * `pm2 restart ecosystem.config.js --only app` as a user changing a setting does it: `env`
   * is the environment of that command (on top of the sandbox's).
   */
  async restart(app: string, env: NodeJS.ProcessEnv = {}): Promise<Pm2AppState> {
    await this.pm2WithEnv(env, 'restart', 'ecosystem.config.js', '--only', app);
    const state = await this.state(app);
    if (!state) throw new Error(`PM2 does not know ${app}`);
    return state;
  }

  /** The app's pid, status and restart count, or undefined when PM2 does not know it. */
  async state(app: string): Promise<Pm2AppState | undefined> {
    const list = JSON.parse(await this.pm2('jlist')) as JlistEntry[];
    const found = list.find((a) => a.name === app);
    if (!found) return undefined;
    const env = found.pm2_env;
    return {
      pid: found.pid,
      status: env.status,
      restarts: env.restart_time,
      exitCode: env.exit_code,
      outLog: env.pm_out_log_path,
      errorLog: env.pm_err_log_path,
    };
  }

  /** Every instance of the app (cluster mode runs several under one name), in PM2's order. */
  async instances(app: string): Promise<Pm2AppState[]> {
    const list = JSON.parse(await this.pm2('jlist')) as JlistEntry[];
    return list
      .filter((a) => a.name === app)
      .map((found) => ({
        pid: found.pid,
        status: found.pm2_env.status,
        restarts: found.pm2_env.restart_time,
        exitCode: found.pm2_env.exit_code,
        outLog: found.pm2_env.pm_out_log_path,
        errorLog: found.pm2_env.pm_err_log_path,
      }));
  }

  /** Waits until PM2 reports the app with `status` ('online', 'stopped', 'errored'). */
  async waitForStatus(app: string, status: string, timeoutMs = 30_000): Promise<Pm2AppState> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(app);
      if (state?.status === status) return state;
      if (Date.now() > until) throw new Error(`PM2 did not report ${app} ${status}: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** What the app has written so far, as PM2 logged it (with PM2's timestamps). */
  async logs(app: string): Promise<{ out: string; error: string }> {
    const state = await this.state(app);
    if (!state) throw new Error(`PM2 does not know ${app}`);
    const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    return { out: read(state.outLog), error: read(state.errorLog) };
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
