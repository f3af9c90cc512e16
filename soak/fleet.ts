// The clients of one server: SoakClients spread over a few documents, their edit loops, the
// random disconnects, and the end-of-run settling (everything saved, every document converged).
import { SoakClient } from './soak-client';
import { DEFAULT_MIX, Random, type EditMix } from './token-text';

export interface FleetOptions {
  port: number;
  documents: readonly string[];
  clients: number;
  random: Random;
  /** Pause between two edits of one client, ms. */
  editIntervalMs: readonly [number, number];
  /** First id; tokens are ⟨cID-k⟩, so two fleets of a run must not share ids. */
  firstId?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Fleet {
  readonly clients: SoakClient[] = [];
  private editing = false;
  private loops: Array<Promise<void>> = [];
  /** Edit mix for all clients (the disk-full run switches to bigger fillers). */
  set mix(mix: EditMix) {
    for (const c of this.clients) c.mix = mix;
  }

  constructor(readonly options: FleetOptions) {
    const first = options.firstId ?? 0;
    for (let i = 0; i < options.clients; i++) {
      this.clients.push(
        new SoakClient({
          id: first + i,
          document: options.documents[i % options.documents.length]!,
          port: options.port,
          ipv6: i % 2 === 1,
          random: new Random(options.random.int(1, 2 ** 31)),
          mix: DEFAULT_MIX,
        }),
      );
    }
  }

  get documents(): readonly string[] {
    return this.options.documents;
  }

  clientsOf(document: string): SoakClient[] {
    return this.clients.filter((c) => c.options.document === document);
  }

  async connectAll(deadlineMs = 60_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    await Promise.all(this.clients.map((c) => c.connect(deadline)));
  }

  /**
   * Every client edits at random intervals until `untilMs` (or stopEditing); with disconnects,
   * random clients are stopped and replaced after a random offline time. Resolves when done.
   */
  async edit(untilMs: number, disconnects?: { everyMs: readonly [number, number]; offlineMs: readonly [number, number] }): Promise<void> {
    this.editing = true;
    const { random } = this.options;
    const [lo, hi] = this.options.editIntervalMs;
    const maxEdits = Math.ceil((untilMs - Date.now()) / Math.max(1, lo)) + 1;
    this.loops = this.clients.map(async (client) => {
      const r = new Random(random.int(1, 2 ** 31));
      for (let k = 0; k < maxEdits && this.editing && Date.now() < untilMs; k++) {
        await sleep(r.int(lo, hi));
        if (this.editing && Date.now() < untilMs) client.edit();
      }
    });
    if (disconnects) {
      const reconnects: Array<Promise<void>> = [];
      this.loops.push(
        (async () => {
          for (let k = 0; k < 100_000 && this.editing; k++) {
            await sleep(random.int(disconnects.everyMs[0], disconnects.everyMs[1]));
            if (!this.editing || Date.now() >= untilMs) break;
            const candidates = this.clients.filter((c) => c.online);
            if (candidates.length === 0) continue;
            const client = candidates[random.int(0, candidates.length - 1)]!;
            client.disconnect();
            const offline = random.int(disconnects.offlineMs[0], disconnects.offlineMs[1]);
            reconnects.push(sleep(offline).then(() => client.connect().catch(() => undefined)));
          }
          await Promise.all(reconnects);
        })(),
      );
    }
    await Promise.all(this.loops);
    this.editing = false;
  }

  stopEditing(): void {
    this.editing = false;
  }

  /** Waits (bounded) until every client is attached and has every token acknowledged; returns the ones that are not. */
  async settle(timeoutMs: number): Promise<SoakClient[]> {
    const results = await Promise.all(this.clients.map(async (c) => ((await c.settle(timeoutMs)) ? undefined : c)));
    return results.filter((c): c is SoakClient => c !== undefined);
  }

  /** Waits (bounded) until the clients of each document hold the same text; returns the documents that do not. */
  async converge(timeoutMs: number): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const divergent = this.documents.filter((d) => new Set(this.clientsOf(d).map((c) => c.currentText)).size > 1);
      if (divergent.length === 0 || Date.now() > until) return divergent;
      await sleep(100);
    }
  }

  /** Acknowledged tokens per document, as of now. */
  ackedByDocument(): Map<string, string[]> {
    const byDoc = new Map<string, string[]>(this.documents.map((d) => [d, []]));
    for (const c of this.clients) byDoc.get(c.options.document)!.push(...c.tokens.slice(0, c.acked));
    return byDoc;
  }

  /** Every token inserted per document (acknowledged or not). */
  insertedByDocument(): Map<string, string[]> {
    const byDoc = new Map<string, string[]>(this.documents.map((d) => [d, []]));
    for (const c of this.clients) byDoc.get(c.options.document)!.push(...c.tokens);
    return byDoc;
  }

  close(): void {
    this.editing = false;
    for (const c of this.clients) c.close();
  }

  totals() {
    const sum = (f: (c: SoakClient) => number) => this.clients.reduce((n, c) => n + f(c), 0);
    return {
      edits: sum((c) => c.stats.edits),
      offlineEdits: sum((c) => c.stats.offlineEdits),
      tokens: sum((c) => c.tokens.length),
      tokensAcked: sum((c) => c.acked),
      disconnects: sum((c) => c.stats.disconnects),
      sessions: sum((c) => c.stats.sessions),
      storageRefusals: sum((c) => c.storageRefusals),
      refusals: sum((c) => [...c.stats.refusals.values()].reduce((a, b) => a + b, 0)),
    };
  }
}
