// Starting the built server and client for end-to-end tests, on loopback, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
/** Path of a built app's bundle. */
export const built = (app: string) => join(root, 'dist', 'apps', app, 'main.js');

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer().listen({ host: '::', port: 0 });
  await once(s, 'listening');
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Starts the built collab-server and waits until it accepts connections. */
export async function startCollabServer(port: number, dataDir: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [built('collab-server'), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const until = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`collab-server exited: ${err}`);
    const probe = connect({ host: '127.0.0.1', port });
    const ok = await once(probe, 'connect').then(
      () => true,
      () => false,
    );
    probe.destroy();
    if (ok) return child;
    if (Date.now() > until) throw new Error('collab-server did not listen within 15 s');
    await new Promise((r) => setTimeout(r, 25));
  }
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
  const child = spawn(process.execPath, [built('collab-client'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => undefined);
  if (input !== undefined) child.stdin!.end(input);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls until check() holds, failing after timeoutMs. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
