// Built collab-servers sharing a real redis-server, and writers that type into them: each writer
// is a ReconnectingClient that prefers its own instance and, when that one is gone, connects to
// the next that answers (as PM2's cluster mode hands a reconnect to a live instance). Every line a
// writer typed is remembered once the server ACKed it, so a test can check that nothing ACKed was lost.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { ReconnectingClient } from '@collab/collab-protocol';
import type { TestRedis } from '@collab/testing';
import { startBuiltServer, type BuiltServer } from './built-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts an instance with --redis (no web port), in `dataDir` when given. */
export function startInstance(redis: TestRedis, options: { dataDir?: string; args?: string[] } = {}): Promise<BuiltServer> {
  return startBuiltServer({
    dataDir: options.dataDir,
    args: ['--ws-port', 'off', '--redis', redis.url, '--max-clients', '100', ...(options.args ?? [])],
  });
}

/** A client of one document that prefers `ports[0]` and falls back on the others in turn. */
export class Writer {
  readonly doc = new Y.Doc();
  readonly awareness = new Awareness(this.doc);
  readonly client: ReconnectingClient;
  /** Lines the server has ACKed. */
  readonly acked = new Set<string>();
  /** Lines typed. */
  readonly typed: string[] = [];

  constructor(
    readonly name: string,
    ports: () => number[],
    document = 'temp',
  ) {
    this.client = new ReconnectingClient({
      document,
      clientName: name,
      doc: this.doc,
      awareness: this.awareness,
      initialDelayMs: 50,
      maxDelayMs: 300,
      connect: async () => {
        let last: unknown;
        for (const port of ports()) {
          const socket: Socket = connect({ host: '127.0.0.1', port });
          socket.on('error', () => undefined);
          try {
            await once(socket, 'connect');
            return socket;
          } catch (error) {
            last = error;
            socket.destroy();
          }
        }
        throw last ?? new Error('no instance to connect to');
      },
    });
  }

  start(): Promise<unknown> {
    return this.client.start();
  }

  text(): string {
    return this.doc.getText('content').toString();
  }

  /** Appends a line; it joins `acked` once the server stored it. */
  type(line: string): void {
    const text = this.doc.getText('content');
    text.insert(text.length, `${line}\n`);
    this.typed.push(line);
    void this.client.whenSaved().then(
      () => this.acked.add(line),
      () => undefined,
    );
  }

  /** Types a line every few milliseconds until `keepGoing()` is false (at most `max` lines). */
  async typeWhile(keepGoing: () => boolean, max = 3000, everyMs = 10): Promise<void> {
    for (let k = 0; keepGoing() && k < max; k++) {
      this.type(`${this.name}-${k}`);
      await sleep(everyMs * (0.5 + Math.random()));
    }
  }

  stop(): void {
    this.client.stop();
    this.awareness.destroy();
  }
}

/** Waits until `check` holds, polling; fails naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every line each writer had ACKed is a line of `text`; returns how many were checked. */
export function expectAllAcked(writers: readonly Writer[], text: string): number {
  const lines = new Set(text.split('\n'));
  const missing: string[] = [];
  let checked = 0;
  for (const w of writers) {
    for (const line of w.acked) {
      checked++;
      if (!lines.has(line)) missing.push(line);
    }
  }
  if (missing.length) throw new Error(`${missing.length} acknowledged lines are missing, e.g. ${missing.slice(0, 5).join(', ')}`);
  return checked;
}
