import { connect as netConnect, type Socket } from 'node:net';
import { describeSystemError } from './describe-system-error';
import { ConnectError, InvalidAddressError } from './errors';
import { interleaveFamilies } from './interleave-families';
import { resolveHost, type Lookup } from './resolve-host';
import type { ConnectAttempt, Family, ResolvedAddress } from './types';

/** Options of connectHappyEyeballs; times are in milliseconds. */
export interface ConnectOptions {
  host: string;
  port: number;
  family?: 0 | 4 | 6;
  /** RFC 8305 "Connection Attempt Delay", default 250. */
  attemptDelayMs?: number;
  /** For resolving and connecting together, default 10000. */
  timeoutMs?: number;
  /** setNoDelay on the winning socket, default true: our traffic is small interactive frames. */
  noDelay?: boolean;
  /** Opens one raw attempt; default net.connect. Lets TLS callers wrap later. */
  connect?: (address: string, port: number, family: Family) => Socket;
  /**
   * The event that makes an attempt the winner, default 'connect'. TLS callers pass
   * 'secureConnect', so an attempt wins only after its handshake and a failed handshake
   * counts as that attempt's failure.
   */
  readyEvent?: 'connect' | 'secureConnect';
  /** Resolver used instead of dns.lookup, for tests. */
  lookup?: Lookup;
  /** Aborting rejects with signal.reason and destroys every attempt. */
  signal?: AbortSignal;
}

/** The connected socket, the address that won, and the attempts that failed before it. */
export interface ConnectResult {
  socket: Socket;
  address: string;
  family: Family;
  attempts: ConnectAttempt[];
}

const DEFAULT_ATTEMPT_DELAY_MS = 250;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Happy Eyeballs v2 (RFC 8305): races every address of a host, IPv6 first, and keeps the first to connect. */
export function connectHappyEyeballs(options: ConnectOptions): Promise<ConnectResult> {
  try {
    checkOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => new Race(options, resolve, reject).start());
}

function checkOptions(options: ConnectOptions): void {
  const { port, attemptDelayMs, timeoutMs } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidAddressError(`port must be a whole number from 1 to 65535 (got ${port})`);
  }
  if (attemptDelayMs !== undefined && !(attemptDelayMs >= 0 && Number.isFinite(attemptDelayMs))) {
    throw new InvalidAddressError(`attemptDelayMs must be a number of milliseconds, 0 or more (got ${attemptDelayMs})`);
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new InvalidAddressError(`timeoutMs must be a positive number of milliseconds (got ${timeoutMs})`);
  }
}

interface Attempt extends ConnectAttempt {
  socket?: Socket;
  done: boolean;
  onConnect?: () => void;
  onError?: (err: Error) => void;
  onClose?: () => void;
}

// One connection race; every path out goes through settle() so timers and sockets never outlive it.
class Race {
  private readonly host: string;
  private readonly port: number;
  private readonly attemptDelayMs: number;
  private readonly timeoutMs: number;
  private readonly connect: (address: string, port: number, family: Family) => Socket;
  private readonly readyEvent: 'connect' | 'secureConnect';
  private addresses: ResolvedAddress[] = [];
  private next = 0;
  private readonly attempts: Attempt[] = [];
  private settled = false;
  private delayTimer?: NodeJS.Timeout;
  private overallTimer?: NodeJS.Timeout;

  constructor(
    private readonly options: ConnectOptions,
    private readonly resolve: (result: ConnectResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.host = options.host;
    this.port = options.port;
    this.attemptDelayMs = options.attemptDelayMs ?? DEFAULT_ATTEMPT_DELAY_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connect = options.connect ?? ((address, port, family) => netConnect({ host: address, port, family }));
    this.readyEvent = options.readyEvent ?? 'connect';
  }

  start(): void {
    const { signal } = this.options;
    if (signal?.aborted) {
      this.reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.overallTimer = setTimeout(this.onTimeout, this.timeoutMs);
    resolveHost(this.host, { family: this.options.family, lookup: this.options.lookup }).then(
      (addresses) => {
        if (this.settled) return;
        this.addresses = interleaveFamilies(addresses);
        this.startNext();
      },
      (err: unknown) => this.settle(() => this.reject(err)),
    );
  }

  private startNext(): void {
    clearTimeout(this.delayTimer);
    if (this.settled || this.next >= this.addresses.length) return;
    const { address, family } = this.addresses[this.next++];
    const attempt: Attempt = { address, family, error: '', done: false };
    this.attempts.push(attempt);
    try {
      attempt.socket = this.connect(address, this.port, family);
    } catch (err) {
      this.fail(attempt, describeSystemError(err));
      return;
    }
    attempt.onConnect = () => this.win(attempt);
    attempt.onError = (err) => this.fail(attempt, describeSystemError(err));
    attempt.onClose = () => this.fail(attempt, 'closed before connecting');
    attempt.socket.once(this.readyEvent, attempt.onConnect);
    attempt.socket.once('error', attempt.onError);
    attempt.socket.once('close', attempt.onClose);
    // A socket handed back already destroyed will never emit again; count it as failed now.
    if (attempt.socket.destroyed) {
      this.fail(attempt, 'closed before connecting');
      return;
    }
    if (this.next < this.addresses.length) {
      this.delayTimer = setTimeout(() => this.startNext(), this.attemptDelayMs);
    }
  }

  private fail(attempt: Attempt, error: string): void {
    if (this.settled || attempt.done) return;
    attempt.done = true;
    attempt.error = error;
    this.release(attempt);
    // RFC 8305 section 5: a failure starts the next attempt at once instead of waiting out the delay.
    if (this.next < this.addresses.length) {
      this.startNext();
    } else if (this.attempts.every((a) => a.done)) {
      this.settle(() => this.reject(new ConnectError(this.failureMessage(), this.failures())));
    }
  }

  private win(attempt: Attempt): void {
    if (this.settled || attempt.done) return;
    attempt.done = true;
    const socket = attempt.socket as Socket;
    this.detach(attempt);
    this.settle(() => {
      socket.setNoDelay(this.options.noDelay ?? true);
      this.resolve({ socket, address: attempt.address, family: attempt.family, attempts: this.failures() });
    });
  }

  private readonly onTimeout = (): void => {
    for (const attempt of this.attempts) {
      if (!attempt.done) {
        attempt.done = true;
        attempt.error = 'timed out';
      }
    }
    const tried = this.attempts.length;
    const detail = tried === 0 ? 'timed out while resolving the name' : this.failureList() + this.untriedNote();
    const message = `could not connect to ${this.host} port ${this.port} within ${this.timeoutMs} ms: ${detail}`;
    this.settle(() => this.reject(new ConnectError(message, this.failures())));
  };

  private readonly onAbort = (): void => {
    const reason: unknown = this.options.signal?.reason;
    this.settle(() => this.reject(reason));
  };

  // Stops timers and destroys every socket but a winner (already detached) before reporting.
  private settle(report: () => void): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.delayTimer);
    clearTimeout(this.overallTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    for (const attempt of this.attempts) {
      if (attempt.onConnect !== undefined) this.release(attempt);
    }
    report();
  }

  private release(attempt: Attempt): void {
    const socket = attempt.socket;
    if (socket === undefined) return;
    this.detach(attempt);
    // A connect error already queued for this socket must not crash the process once we stop listening.
    socket.on('error', ignore);
    socket.destroy();
  }

  private detach(attempt: Attempt): void {
    const socket = attempt.socket;
    if (socket === undefined || attempt.onConnect === undefined) return;
    socket.off(this.readyEvent, attempt.onConnect);
    socket.off('error', attempt.onError as (err: Error) => void);
    socket.off('close', attempt.onClose as () => void);
    attempt.onConnect = attempt.onError = attempt.onClose = undefined;
  }

  private failures(): ConnectAttempt[] {
    return this.attempts.filter((a) => a.done && a.error !== '').map(({ address, family, error }) => ({ address, family, error }));
  }

  private failureList(): string {
    return this.failures()
      .map((a) => `${a.address} (${a.error})`)
      .join(', ');
  }

  private untriedNote(): string {
    const untried = this.addresses.length - this.attempts.length;
    return untried > 0 ? `; ${untried} more address${untried === 1 ? '' : 'es'} not tried` : '';
  }

  private failureMessage(): string {
    return `could not connect to ${this.host} port ${this.port}: ${this.failureList()}`;
  }
}

function ignore(): void {}
