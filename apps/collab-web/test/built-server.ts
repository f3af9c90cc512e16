// The built collab-server (dist/apps/collab-server/main.js, serving dist/apps/collab-web) in its
// own process on free ports, for the web editor's end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor, waitForPort } from '@collab/testing';

export const root = join(__dirname, '..', '..', '..');
export const built = (app: string) => join(root, 'dist', 'apps', app, 'main.js');

export interface BuiltServer {
  port: number;
  wsPort: number;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  restart(): Promise<void>;
}

const running: BuiltServer[] = [];

/** Starts the built server on free ports (TCP and web) in a fresh data directory. */
export async function startBuiltServer(extra: string[] = []): Promise<BuiltServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'collab-web-e2e-'));
  const port = await freePort();
  const wsPort = await freePort();
  let out = '';
  const launch = async () => {
    const child = spawn(process.execPath, [built('collab-server'), '--port', String(port), '--ws-port', String(wsPort), ...extra], {
      cwd: dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    server.child = child;
    await waitForPort(wsPort, { stillAlive: () => child.exitCode === null });
    await waitForPort(port, { stillAlive: () => child.exitCode === null });
  };
  const server: BuiltServer = {
    port,
    wsPort,
    dataDir,
    child: undefined as unknown as ChildProcess,
    output: () => out,
    stop: async () => {
      const { child } = server;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
    restart: launch,
  };
  running.push(server);
  await launch();
  await waitFor(() => out.includes('Web editor on port'), 'the start lines');
  return server;
}

/** Stops every server started here and removes its data directory; call from afterEach/afterAll. */
export async function stopBuiltServers(): Promise<void> {
  for (const server of running.splice(0)) {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}
