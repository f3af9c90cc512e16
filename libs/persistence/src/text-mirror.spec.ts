import { BUSY_FACTOR, MAX_BUSY_DELAY_MS, TextMirror } from './text-mirror';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TextMirror', () => {
  /** A mirror whose writes note `busyMs` of event-loop time, and the times they started at. */
  function mirrorWith(delayMs: number, busyMs: number) {
    const starts: number[] = [];
    const mirror: TextMirror = new TextMirror(
      async () => {
        starts.push(performance.now());
        mirror.noteBusy(busyMs);
      },
      delayMs,
      () => undefined,
    );
    return { mirror, starts };
  }

  /** Changes the document every 5 ms for `ms`. */
  async function typeFor(mirror: TextMirror, ms: number): Promise<void> {
    for (const end = performance.now() + ms; performance.now() < end;) {
      mirror.schedule();
      await sleep(5);
    }
  }

  it('writes about once per delay under steady typing', async () => {
    const { mirror, starts } = mirrorWith(20, 0);
    await typeFor(mirror, 300);
    await mirror.close();
    expect(starts.length).toBeGreaterThanOrEqual(5);
  });

  it(`keeps writes ${BUSY_FACTOR} times the event loop's time in the last one apart`, async () => {
    const busyMs = 2; // to read the document: writes 400 ms apart
    const { mirror, starts } = mirrorWith(20, busyMs);
    await typeFor(mirror, 900);
    await mirror.close();
    const gaps = starts.slice(1, -1).map((t, i) => t - starts[i]);
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(BUSY_FACTOR * busyMs - 5);
    expect(starts.length).toBeLessThanOrEqual(4); // three at most in 900 ms, then the one close() makes
  });

  it(`keeps them no more than ${MAX_BUSY_DELAY_MS} ms apart`, async () => {
    const { mirror, starts } = mirrorWith(20, 1000); // a second to read: 200 s by the factor alone
    await typeFor(mirror, MAX_BUSY_DELAY_MS + 500);
    await mirror.close();
    expect(starts.length).toBeGreaterThanOrEqual(3); // at 20 ms, at ~2 s, and at close
  });
});
