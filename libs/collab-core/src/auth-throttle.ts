// Slows down token guessing: an address may send a few wrong tokens, then must wait before the
// next try, twice as long after each further wrong one (up to a limit). The comparison itself is
// constant-time already (@collab/collab-protocol); this bounds how many comparisons an address gets.

/** Forget an address this long after its last wrong token. */
const FORGET_AFTER_MS = 10 * 60_000;
/** Addresses remembered at once; past it the longest quiet one is forgotten. */
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
}

/** Per-address back-off after wrong tokens. */
export class AuthThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(
    /** Wrong tokens an address may send before it must wait. */
    private readonly allowed: number,
    /** Longest wait. */
    private readonly maxWaitMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long `address` must still wait before its next try (0: it may try now). */
  waitMs(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const now = this.now();
    if (now - entry.last > FORGET_AFTER_MS) {
      this.failures.delete(address);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - now);
  }

  /** `address` sent a wrong token. */
  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address) ?? { count: 0, last: now, blockedUntil: 0 };
    this.failures.delete(address); // re-inserted last: the Map's order is least recently failed first
    entry.count++;
    entry.last = now;
    if (entry.count > this.allowed)
      entry.blockedUntil = now + Math.min(this.maxWaitMs, 1000 * 2 ** Math.min(30, entry.count - this.allowed - 1));
    this.failures.set(address, entry);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** `address` sent the right token: its record is cleared. */
  succeeded(address: string): void {
    this.failures.delete(address);
  }

  /** Addresses remembered now (for tests and bounds). */
  get size(): number {
    return this.failures.size;
  }
}
