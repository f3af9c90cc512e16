import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { readFrames, MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import { decodeMessage } from './message-decoder';
import { encodeMessageFrame } from './message-encoder';
import { checkWelcome, makeHello, type WelcomeDecision } from './handshake';
import { MessageType, SyncType } from './message-type';
import type { Message, WelcomeMessage } from './messages';

/** How a client session presents itself and what it shares with the next one after a reconnect. */
export interface CollabSessionOptions {
  document: string;
  clientName: string;
  token?: string;
  /** The document; kept across sessions, so edits made while disconnected are sent on reconnect. */
  doc: Y.Doc;
  /** Presence of this client and its peers; kept across sessions too. */
  awareness?: Awareness;
  /** Send PING after this much silence from the server (PROTOCOL.md: 15 s). */
  pingAfterMs?: number;
}

/** Why a session ended. */
export interface SessionEnd {
  /** The server's ERROR, or a refusal of the server's answer, when there was one. */
  refusal?: Extract<WelcomeDecision, { ok: false }>;
  /** What went wrong locally (socket error, bad frame), when that ended it. */
  error?: Error;
}

/**
 * The client side of one connection (PROTOCOL.md "Conversation"): HELLO, WELCOME, the sync
 * step 1 / step 2 exchange, then updates both ways, awareness, ACKs and pings. It speaks over
 * any connected duplex stream and does no connecting or reconnecting of its own.
 * Events: 'welcome' (WelcomeMessage), 'synced', 'ack' (count), 'end' (SessionEnd).
 */
export class CollabSession extends EventEmitter {
  /** Document-changing frames (SYNC step 2 and update) sent on this connection. */
  sentChanges = 0;
  /** How many of them the server has stored (its latest ACK). */
  ackedChanges = 0;
  private welcomed: WelcomeMessage | undefined;
  private synced = false;
  /**
   * Local edits wait until this client has answered the server's sync step 1: its step 2 then
   * carries them with everything else the server lacks. Sent earlier, an edit could need
   * changes the server does not have yet (lost in a crash, say), which it refuses.
   */
  private answeredStepOne = false;
  /** A local edit happened before that answer; the step 2 will carry it. */
  private heldBack = false;
  private ended = false;
  private corked = false;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Callers of flush() waiting for their FLUSHED, oldest first (the server answers in order). */
  private readonly flushWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly detach: () => void;
  private readonly awareness: Awareness | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly options: CollabSessionOptions,
  ) {
    super();
    this.awareness = options.awareness;
    // Keystrokes are small frames that must leave at once: no Nagle delay on TCP streams.
    (stream as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.detach = readFrames(
      stream,
      (payload) => this.onFrame(payload),
      (error) => this.end({ error }),
      {
        maxFrameBytes: MAX_FRAME_BYTES_LIMIT,
      },
    );
    stream.on('error', (error: Error) => this.end({ error }));
    stream.on('close', () => this.end({}));
    options.doc.on('update', this.onLocalUpdate);
    this.send(makeHello({ document: options.document, clientName: options.clientName, token: options.token }));
    this.armPing();
  }

  /** The server's WELCOME, once it came. */
  get welcome(): WelcomeMessage | undefined {
    return this.welcomed;
  }

  /** True once the server's sync step 2 has been applied: the document is the server's. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** True when every change sent on this connection is stored (ACKed). */
  get isSaved(): boolean {
    return !this.heldBack && this.ackedChanges >= this.sentChanges;
  }

  /** True once the session is over. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves once synced; rejects if the session ends first. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return this.until('synced');
  }

  /** Resolves once every change sent so far is ACKed; rejects if the session ends first. */
  whenSaved(): Promise<void> {
    const target = this.sentChanges + (this.heldBack ? 1 : 0);
    if (this.ackedChanges >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAck = (count: number) => {
        if (count < target) return;
        this.off('ack', onAck).off('end', onEnd);
        resolve();
      };
      const onEnd = (end: SessionEnd) => {
        this.off('ack', onAck);
        reject(sessionError(end));
      };
      this.on('ack', onAck).once('end', onEnd);
    });
  }

  /**
   * Asks the server to write the document's plain-text file (FLUSH) and resolves on its
   * FLUSHED: NAME.txt then holds every change the server had applied when the FLUSH arrived,
   * so call it after whenSaved() to cover one's own edits. Rejects when the session ends first;
   * a server that does not know FLUSH ends it with ERROR 3 (the error's errorCode).
   */
  flush(): Promise<void> {
    if (this.ended) return Promise.reject(Object.assign(new Error('the connection to the server closed'), { code: 'COLLAB_ERR_CLOSED' }));
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      this.send({ type: MessageType.Flush });
    });
  }

  /** Ends the session and closes the stream; idempotent. */
  close(): void {
    this.end({});
  }

  private until(event: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onEvent = () => {
        this.off('end', onEnd);
        resolve();
      };
      const onEnd = (end: SessionEnd) => {
        this.off(event, onEvent);
        reject(sessionError(end));
      };
      this.once(event, onEvent).once('end', onEnd);
    });
  }

  private send(message: Message): void {
    if (this.ended || this.stream.destroyed) return;
    if (!this.corked) {
      // Every frame of one tick in one write: a burst of keystrokes is one packet.
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    this.stream.write(encodeMessageFrame(message, MAX_FRAME_BYTES_LIMIT));
  }

  private armPing(): void {
    clearTimeout(this.pingTimer);
    if (this.ended) return;
    this.pingTimer = setTimeout(() => {
      this.send({ type: MessageType.Ping });
      this.armPing();
    }, this.options.pingAfterMs ?? 15_000);
    this.pingTimer.unref?.();
  }

  private onFrame(payload: Buffer): void {
    this.armPing();
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      return this.end({ error: error as Error });
    }
    if (!this.welcomed) {
      const decision = checkWelcome(message, { document: this.options.document });
      if (!decision.ok) return this.end({ refusal: decision });
      this.welcomed = decision.welcome;
      this.emit('welcome', decision.welcome);
      this.start();
      return;
    }
    switch (message.type) {
      case MessageType.Sync:
        if (message.syncType === SyncType.Step1) {
          this.sentChanges++;
          this.send({ type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(this.options.doc, message.data) });
          this.answeredStepOne = true;
          this.heldBack = false;
          return;
        }
        try {
          Y.applyUpdate(this.options.doc, message.data, this);
        } catch (error) {
          return this.end({ error: new Error(`the server sent an update that cannot be applied: ${(error as Error).message}`) });
        }
        if (message.syncType === SyncType.Step2 && !this.synced) {
          this.synced = true;
          this.emit('synced');
        }
        return;
      case MessageType.Awareness:
        if (this.awareness) applyAwarenessUpdate(this.awareness, message.update, this);
        return;
      case MessageType.Ack:
        if (message.count > this.ackedChanges) {
          this.ackedChanges = message.count;
          this.emit('ack', message.count);
        }
        return;
      case MessageType.Flushed:
        this.flushWaiters.shift()?.resolve();
        return;
      case MessageType.Ping:
        return this.send({ type: MessageType.Pong });
      case MessageType.Error: {
        const decision = checkWelcome(message, { document: this.options.document });
        return this.end({ refusal: decision.ok ? undefined : decision });
      }
      default:
        return; // PONG, and anything else a server has no business sending, changes nothing
    }
  }

  private start(): void {
    const { doc } = this.options;
    this.send({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(doc) });
    if (this.awareness) {
      this.awareness.on('update', this.onLocalAwareness);
      // Announce ourselves with a new clock: peers (and a restarted server) ignore a presence
      // update whose clock is not newer than the last one they saw from us.
      const local = this.awareness.getLocalState();
      if (local !== null) this.awareness.setLocalState({ ...local });
    }
  }

  private readonly onLocalUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return;
    if (!this.answeredStepOne) {
      this.heldBack = true;
      return;
    }
    this.sentChanges++;
    this.send({ type: MessageType.Sync, syncType: SyncType.Update, data: update });
  };

  private readonly onLocalAwareness = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    if (origin === this) return;
    const changed = [...added, ...updated, ...removed];
    if (changed.length) this.send({ type: MessageType.Awareness, update: encodeAwarenessUpdate(this.awareness!, changed) });
  };

  private end(end: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.pingTimer);
    this.detach();
    this.options.doc.off('update', this.onLocalUpdate);
    if (this.awareness) {
      this.awareness.off('update', this.onLocalAwareness);
      // Other people's presence is stale once we are cut off from them.
      const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.options.doc.clientID);
      if (others.length) removeAwarenessStates(this.awareness, others, this);
      // Forget their clocks too, or their states would be refused after the reconnect until
      // each sends a newer one (up to 15 s later).
      for (const id of [...this.awareness.meta.keys()]) if (id !== this.options.doc.clientID) this.awareness.meta.delete(id);
    }
    if (!this.stream.destroyed) this.stream.destroy();
    for (const waiter of this.flushWaiters.splice(0)) waiter.reject(sessionError(end));
    this.emit('end', end);
  }
}

/** An Error describing why a session ended, for promise rejections. */
export function sessionError(end: SessionEnd): Error {
  if (end.refusal) return Object.assign(new Error(end.refusal.message), { code: 'COLLAB_ERR_REFUSED', errorCode: end.refusal.code });
  return end.error ?? Object.assign(new Error('the connection to the server closed'), { code: 'COLLAB_ERR_CLOSED' });
}
