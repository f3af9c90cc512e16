import { connect, createServer } from 'node:net';
import { once } from 'node:events';

/** A TCP port nothing listens on right now (bound on `host`, then released). */
export async function freePort(host = '::'): Promise<number> {
  const server = createServer().listen({ host, port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True when a TCP connection to host:port succeeds now. */
export async function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  const probe = connect({ host, port });
  const ok = await once(probe, 'connect').then(
    () => true,
    () => false,
  );
  probe.destroy();
  return ok;
}

/**
 * Waits until something accepts connections on the port; `stillAlive` lets the caller stop
 * early (the process it started has exited). Bounded by timeoutMs.
 */
export async function waitForPort(
  port: number,
  options: { host?: string; timeoutMs?: number; stillAlive?: () => boolean } = {},
): Promise<void> {
  const until = Date.now() + (options.timeoutMs ?? 15_000);
  while (!(await accepts(port, options.host))) {
    if (options.stillAlive && !options.stillAlive()) throw new Error(`the process meant to listen on port ${port} exited`);
    if (Date.now() > until) throw new Error(`nothing listened on port ${port} within ${options.timeoutMs ?? 15_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls until check() holds; fails naming `what` after timeoutMs. */
export async function waitFor(check: () => boolean, what = 'a condition', timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
