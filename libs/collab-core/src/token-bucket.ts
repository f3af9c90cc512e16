/**
 * A token bucket: `ratePerSecond` tokens flow in continuously up to `burst`; taking more than
 * there are leaves a debt, and `waitMs()` says how long until it is paid back. No timers: the
 * caller decides what to do about the wait (the server pauses reading from the socket).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be a positive number');
    if (!(burst >= 1)) throw new RangeError('burst must be at least 1');
    this.tokens = burst;
    this.last = now();
  }

  /** Takes `amount` tokens (going into debt if need be); true when there were enough. */
  take(amount = 1): boolean {
    this.refill();
    this.tokens -= amount;
    return this.tokens >= 0;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }
}
