/** Round-trip statistics as `ping` prints them, plus percentiles. */
export interface RttSummary {
  sent: number;
  received: number;
  lossPercent: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100); NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarises the round trips of the replies that came back out of `sent` requests. */
export function summarise(sent: number, rttsMs: readonly number[]): RttSummary {
  const sorted = [...rttsMs].sort((a, b) => a - b);
  const received = sorted.length;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    sent,
    received,
    lossPercent: sent === 0 ? 0 : ((sent - received) / sent) * 100,
    minMs: received ? sorted[0]! : Number.NaN,
    avgMs: received ? sum / received : Number.NaN,
    maxMs: received ? sorted[received - 1]! : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

/** Milliseconds with three decimals, as ping prints them. */
export function ms(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(3);
}
