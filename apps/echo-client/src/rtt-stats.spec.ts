import { ms, percentile, summarise } from './rtt-stats';

describe('summarise', () => {
  it('gives min/avg/max/p50/p99 and loss like ping', () => {
    const s = summarise(5, [4, 1, 3, 2]);
    expect(s).toEqual({ sent: 5, received: 4, lossPercent: 20, minMs: 1, avgMs: 2.5, maxMs: 4, p50Ms: 2, p99Ms: 4 });
  });

  it('reports 100% loss and no figures when nothing came back', () => {
    const s = summarise(3, []);
    expect(s.lossPercent).toBe(100);
    expect(ms(s.avgMs)).toBe('-');
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });
});
