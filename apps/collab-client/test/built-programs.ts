// Starting the built server and client for end-to-end tests, on loopback, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { waitForPort } from '@collab/testing';

export { freePort, waitFor } from '@collab/testing';

const root = join(__dirname, '..', '..', '..');
/** Path of a built app's bundle. */
export const built = (app: string) => join(root, 'dist', 'apps', app, 'main.js');

/** Starts the built collab-server and waits until it accepts connections. */
export async function startCollabServer(port: number, dataDir: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [built('collab-server'), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...extra],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitForPort(port, { stillAlive: () => child.exitCode === null });
  return child;
}

/** Stops a child by pid and waits for it to exit. */
export async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A running client: its output so far, a way to type lines, and its exit. */
export interface RunningClient {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts the built collab-client with piped stdio (line mode unless a one-shot flag is given). */
export function startClient(args: string[], input?: string): RunningClient {
  // The user's own COLLAB_* settings (a token, a port) must not change what a test sees.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('COLLAB_')));
  const child = spawn(process.execPath, [built('collab-client'), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => undefined);
  if (input !== undefined) child.stdin!.end(input);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}
