import { AuthThrottle } from './auth-throttle';

describe('AuthThrottle', () => {
  it('lets a few wrong tokens through, then makes the address wait twice as long after each', () => {
    let now = 0;
    const throttle = new AuthThrottle(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) throttle.failed('a');
    expect(throttle.waitMs('a')).toBe(0);
    throttle.failed('a');
    expect(throttle.waitMs('a')).toBe(1000);
    throttle.failed('a');
    expect(throttle.waitMs('a')).toBe(2000);
    for (let i = 0; i < 20; i++) throttle.failed('a');
    expect(throttle.waitMs('a')).toBe(60_000);
    expect(throttle.waitMs('b')).toBe(0);
    now += 60_000;
    expect(throttle.waitMs('a')).toBe(0);
  });

  it('forgets an address after the right token, or ten quiet minutes', () => {
    let now = 0;
    const throttle = new AuthThrottle(0, 60_000, () => now);
    throttle.failed('a');
    throttle.succeeded('a');
    expect(throttle.waitMs('a')).toBe(0);
    throttle.failed('b');
    now += 11 * 60_000;
    expect(throttle.waitMs('b')).toBe(0);
    expect(throttle.size).toBe(0);
  });

  it('remembers a bounded number of addresses', () => {
    const throttle = new AuthThrottle(0, 1000);
    for (let i = 0; i < 20_000; i++) throttle.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.size).toBeLessThanOrEqual(10_000);
  });
});
