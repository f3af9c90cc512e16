// One simulated person: a Y.Doc edited at random intervals, kept in sync by a ReconnectingClient
// that the soak stops and replaces now and then (edits made in between are offline edits).
//
// "Acknowledged" follows the protocol's promise: a token counts as acknowledged once a
// `whenSaved()` issued after it was inserted has resolved. One whenSaved is outstanding at a
// time (a new one is issued when it resolves and more edits were made meanwhile).
//
// A replacement ReconnectingClient starts out believing it is saved (it has seen no local change
// yet), so a whenSaved() issued on it before any local change resolves at once even when the
// doc holds offline edits the server lacks. The soak therefore makes one filler edit on the new
// client before trusting its whenSaved() (see the report: "replacement clients and whenSaved").
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import { ErrorCode, ReconnectingClient, type CollabSession, type SessionEnd } from '@collab/collab-protocol';
import { DEFAULT_MIX, randomEdit, tokenFor, type EditMix, type Random } from './token-text';

export const TEXT = 'content';

/** Counters one client keeps; summed into the report. */
export interface ClientStats {
  edits: number;
  tokens: number;
  tokensAcked: number;
  offlineEdits: number;
  disconnects: number;
  sessions: number;
  refusals: Map<number, number>;
}

export interface SoakClientOptions {
  /** Number used in its tokens (⟨cN-k⟩) and name. */
  id: number;
  document: string;
  port: number;
  /** Connect over IPv6 (::1) instead of IPv4 (127.0.0.1). */
  ipv6: boolean;
  random: Random;
  mix?: EditMix;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Connects over TCP to loopback; rejects when the connection fails (or takes over 5 s). */
function connectLoopback(host: string, port: number): Promise<Socket> {
  const socket = connect({ host, port, noDelay: true });
  const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)), 5000);
  return once(socket, 'connect').then(
    () => {
      clearTimeout(timer);
      return socket;
    },
    (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      throw error;
    },
  );
}

export class SoakClient {
  readonly doc = new Y.Doc();
  readonly text: Y.Text = this.doc.getText(TEXT);
  /** Tokens inserted by this client, in order. */
  readonly tokens: string[] = [];
  /** The first `acked` of `tokens` are acknowledged. */
  acked = 0;
  readonly stats: ClientStats = { edits: 0, tokens: 0, tokensAcked: 0, offlineEdits: 0, disconnects: 0, sessions: 0, refusals: new Map() };
  mix: EditMix;
  private client: ReconnectingClient | undefined;
  /** Set while a whenSaved() is outstanding on `client`. */
  private waiting = false;
  private seq = 0;
  private closed = false;
  private starting: Promise<void> | undefined;
  /** Called with each refusal code seen (ERROR n from the server). */
  onRefusal?: (code: number) => void;

  constructor(readonly options: SoakClientOptions) {
    this.mix = options.mix ?? DEFAULT_MIX;
  }

  get name(): string {
    return `c${this.options.id}`;
  }

  /** True while a ReconnectingClient is attached (it may be reconnecting). */
  get online(): boolean {
    return this.client !== undefined;
  }

  /** True when a ReconnectingClient is attached and connected. */
  get connected(): boolean {
    return this.client?.state.kind === 'connected';
  }

  get isSaved(): boolean {
    return this.client !== undefined && this.client.isSaved && this.acked === this.tokens.length && !this.waiting;
  }

  get currentText(): string {
    return this.text.toString();
  }

  /** Attaches a new ReconnectingClient to the doc and waits for its first sync (bounded retries). */
  connect(deadline = Date.now() + 60_000): Promise<void> {
    this.starting ??= this.attach(deadline).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async attach(deadline: number): Promise<void> {
    const { options } = this;
    for (let attempt = 0; !this.closed; attempt++) {
      const client = new ReconnectingClient({
        document: options.document,
        clientName: this.name,
        doc: this.doc,
        initialDelayMs: options.initialDelayMs ?? 50,
        maxDelayMs: options.maxDelayMs ?? 1000,
        connect: () => connectLoopback(options.ipv6 ? '::1' : '127.0.0.1', options.port),
      });
      client.on('session', (session: CollabSession) => {
        this.stats.sessions++;
        session.on('end', (end: SessionEnd) => {
          const code = end.refusal?.code;
          if (code === undefined) return;
          this.stats.refusals.set(code, (this.stats.refusals.get(code) ?? 0) + 1);
          this.onRefusal?.(code);
        });
      });
      this.client = client;
      // Without a local change the new client would call itself saved even though the doc may
      // hold offline edits; one filler edit makes its whenSaved() cover them (its step 2 does).
      this.editFiller();
      try {
        await client.start();
        this.pumpAcks();
        return;
      } catch (error) {
        client.stop('start failed');
        if (this.client === client) this.client = undefined;
        if (Date.now() > deadline) throw new Error(`${this.name} could not connect: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  /** Stops the ReconnectingClient (a random disconnect); the doc stays and edits go on offline. */
  disconnect(): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.stats.disconnects++;
    client.stop('soak disconnect');
  }

  /** One random edit; while offline it is an offline edit. */
  edit(): void {
    if (this.closed) return;
    const result = randomEdit(this.text, this.options.random, this.mix, () => tokenFor(this.options.id, this.seq++));
    this.stats.edits++;
    if (!this.client) this.stats.offlineEdits++;
    if (result.token) {
      this.tokens.push(result.token);
      this.stats.tokens++;
    }
    this.pumpAcks();
  }

  private editFiller(): void {
    randomEdit(this.text, this.options.random, { ...this.mix, tokenShare: 0, deleteShare: 0, maxFillerInsert: 2 }, () => '');
    this.stats.edits++;
  }

  /** Issues a whenSaved() for every token so far unless one is outstanding. */
  private pumpAcks(): void {
    const client = this.client;
    if (this.waiting || !client || this.closed) return;
    const n = this.tokens.length;
    if (n === this.acked && client.isSaved) return;
    this.waiting = true;
    client.whenSaved().then(
      () => {
        this.waiting = false;
        if (n > this.acked) {
          this.stats.tokensAcked += n - this.acked;
          this.acked = n;
        }
        if (this.client === client) this.pumpAcks();
      },
      () => {
        // The client was stopped: whatever it did not get ACKed waits for the next one.
        this.waiting = false;
        if (this.client && this.client !== client) this.pumpAcks();
      },
    );
  }

  /** Resolves once every token is acknowledged (the client must be attached); false on timeout. */
  async settle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.client) await this.connect(until).catch(() => undefined);
      if (this.isSaved) return true;
      this.pumpAcks();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.isSaved;
  }

  /** Stops for good; the doc is kept for the final checks. */
  close(): void {
    this.closed = true;
    this.client?.stop('soak finished');
    this.client = undefined;
  }

  /** Refusals with ERROR 7 (storage unavailable) seen by this client. */
  get storageRefusals(): number {
    return this.stats.refusals.get(ErrorCode.StorageUnavailable) ?? 0;
  }
}
