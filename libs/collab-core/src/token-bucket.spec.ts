import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  let clock = 0;
  const now = () => clock;

  beforeEach(() => {
    clock = 0;
  });

  it('allows a burst, then asks to wait for the refill', () => {
    const bucket = new TokenBucket(10, 3, now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true]);
    expect(bucket.take()).toBe(false);
    expect(bucket.waitMs()).toBe(100);
    clock = 100;
    expect(bucket.waitMs()).toBe(0);
  });

  it('never holds more than the burst however long it waits', () => {
    const bucket = new TokenBucket(10, 2, now);
    clock = 60_000;
    expect(bucket.take(2)).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('counts large takes as debt', () => {
    const bucket = new TokenBucket(1000, 1000, now);
    expect(bucket.take(3000)).toBe(false);
    expect(bucket.waitMs()).toBe(2000);
  });

  it('rejects nonsense settings', () => {
    expect(() => new TokenBucket(0, 1)).toThrow('ratePerSecond must be a positive number');
    expect(() => new TokenBucket(1, 0)).toThrow('burst must be at least 1');
  });
});
