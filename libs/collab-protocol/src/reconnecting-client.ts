import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CollabSession, type CollabSessionOptions, type SessionEnd } from './collab-session';

/** How a ReconnectingClient reaches the server and how patiently it retries. */
export interface ReconnectingClientOptions extends CollabSessionOptions {
  /** Opens a new connection to the server (resolves once connected). */
  connect: () => Promise<Duplex>;
  /** First retry delay; doubles each failure up to maxDelayMs, with ±50 % jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** The connection state a user sees. */
export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'reconnecting'; readonly inMs: number; readonly reason: string }
  | { readonly kind: 'stopped'; readonly reason: string };

/**
 * Keeps one document in sync with the server across disconnects: a new CollabSession over a
 * new connection after each loss, waiting with exponential backoff and jitter in between. The
 * Y.Doc outlives sessions, so typing goes on while disconnected and the next session's sync
 * step 2 carries it to the server. Stops for good on an ERROR that retrying cannot fix (bad
 * token, name or version). Events: 'state' (ConnectionState), 'session' (CollabSession),
 * 'saved' (boolean).
 */
export class ReconnectingClient extends EventEmitter {
  private session: CollabSession | undefined;
  private currentState: ConnectionState = { kind: 'connecting' };
  private failures = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Changes made locally that no session has had ACKed yet (survives reconnects). */
  private wasSaved = true;
  /** What whenSaved() callers wait on while there are unsaved changes. */
  private saving: Promise<void> | undefined;

  constructor(private readonly options: ReconnectingClientOptions) {
    super();
    // A document that already holds edits is not known to be stored until a session has
    // sent them (its step 2) and had them ACKed.
    this.wasSaved = options.doc.store.clients.size === 0;
    options.doc.on('update', this.onDocUpdate);
  }

  /** Starts connecting; resolves with the first session once it is synced, rejects when the first attempt fails. */
  async start(): Promise<CollabSession> {
    const session = await this.open();
    await session.whenSynced();
    return session;
  }

  /** The state to show (connected, reconnecting in N ms, ...). */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The live session, if connected. */
  get current(): CollabSession | undefined {
    return this.session && !this.session.isEnded ? this.session : undefined;
  }

  /** True when every local change has been ACKed by the server. */
  get isSaved(): boolean {
    return this.wasSaved;
  }

  /** Resolves once every local change so far is stored, across reconnects if need be. */
  whenSaved(): Promise<void> {
    if (this.wasSaved) return Promise.resolve();
    // One waiter (two listeners) shared by every caller until the next save or stop, however
    // many calls a writer keeps pending.
    this.saving ??= new Promise<void>((resolve, reject) => {
      const onSaved = (saved: boolean) => {
        if (!saved) return;
        this.off('saved', onSaved).off('state', onState);
        this.saving = undefined;
        resolve();
      };
      const onState = (state: ConnectionState) => {
        if (state.kind !== 'stopped') return;
        this.off('saved', onSaved).off('state', onState);
        this.saving = undefined;
        reject(stoppedError(state));
      };
      this.on('saved', onSaved).on('state', onState);
    });
    return this.saving;
  }

  /**
   * Resolves once the server has written the document's plain-text file (NAME.txt) with
   * everything it held when asked: FLUSH on the live session, asked again on the next one when
   * the connection is lost meanwhile. Call it after whenSaved() to cover one's own edits.
   * Rejects when the client stops, or when the server refuses (an old server that does not
   * know FLUSH answers ERROR 3: code 'COLLAB_ERR_REFUSED', errorCode 3).
   */
  async flush(): Promise<void> {
    for (;;) {
      const session = await this.whenConnected();
      try {
        return await session.flush();
      } catch (error) {
        if ((error as { code?: string }).code === 'COLLAB_ERR_REFUSED' || this.stopped) throw error;
        // The connection was lost: the next session asks again.
      }
    }
  }

  /** Disconnects and stops retrying; idempotent. */
  stop(reason = 'stopped'): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.options.doc.off('update', this.onDocUpdate);
    this.session?.close();
    this.setState({ kind: 'stopped', reason });
  }

  /** The live session once it is synced; rejects if the client stops first. */
  private whenConnected(): Promise<CollabSession> {
    const live = this.current;
    if (live?.isSynced) return Promise.resolve(live);
    if (this.stopped) return Promise.reject(stoppedError(this.currentState));
    return new Promise((resolve, reject) => {
      const onState = (state: ConnectionState) => {
        const session = this.current;
        if (state.kind === 'connected' && session?.isSynced) {
          this.off('state', onState);
          resolve(session);
        } else if (state.kind === 'stopped') {
          this.off('state', onState);
          reject(stoppedError(state));
        }
      };
      this.on('state', onState);
    });
  }

  private async open(): Promise<CollabSession> {
    this.setState({ kind: 'connecting' });
    const stream = await this.options.connect();
    if (this.stopped) {
      stream.destroy();
      throw new Error('stopped');
    }
    const session = new CollabSession(stream, this.options);
    this.session = session;
    session.on('synced', () => {
      this.failures = 0;
      this.setState({ kind: 'connected' });
      this.checkSaved();
    });
    session.on('ack', () => this.checkSaved());
    session.on('end', (end: SessionEnd) => this.onSessionEnd(session, end));
    this.emit('session', session);
    return session;
  }

  private onSessionEnd(session: CollabSession, end: SessionEnd): void {
    if (this.session !== session || this.stopped) return;
    if (end.refusal && !end.refusal.retryable) {
      this.stop(end.refusal.message);
      return;
    }
    this.scheduleRetry(end.refusal?.message ?? end.error?.message ?? 'the connection closed');
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return;
    const base = Math.min(this.options.maxDelayMs ?? 10_000, (this.options.initialDelayMs ?? 250) * 2 ** this.failures);
    const inMs = Math.round(base * (0.5 + Math.random()));
    this.failures++;
    this.setState({ kind: 'reconnecting', inMs, reason });
    this.retryTimer = setTimeout(() => {
      this.open().catch((error: Error) => this.scheduleRetry(error.message));
    }, inMs);
  }

  private readonly onDocUpdate = (_update: Uint8Array, origin: unknown) => {
    if (origin instanceof CollabSession) return; // from the server, not ours
    this.setSaved(false);
  };

  private checkSaved(): void {
    const s = this.session;
    // Saved only when a synced session has ACKed everything it sent: its step 2 carried
    // whatever earlier sessions had not got stored.
    if (s && s.isSynced && s.isSaved) this.setSaved(true);
  }

  private setSaved(saved: boolean): void {
    if (this.wasSaved === saved) return;
    this.wasSaved = saved;
    this.emit('saved', saved);
  }

  private setState(state: ConnectionState): void {
    this.currentState = state;
    this.emit('state', state);
  }
}

function stoppedError(state: ConnectionState): Error {
  return Object.assign(new Error(state.kind === 'stopped' ? state.reason : 'stopped'), { code: 'COLLAB_ERR_STOPPED' });
}
