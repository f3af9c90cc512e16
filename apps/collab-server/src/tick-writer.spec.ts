import { TickWriter } from './tick-writer';

describe('TickWriter', () => {
  const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

  it("writes a tick's frames at its end, in one buffer, in order", async () => {
    const writes: string[] = [];
    const out = new TickWriter((data) => writes.push(data.toString()));
    out.push(Buffer.from('a'));
    out.push(Buffer.from('bc'));
    expect(out.queuedBytes).toBe(3);
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual(['abc']);
    expect(out.queuedBytes).toBe(0);
    out.push(Buffer.from('d'));
    await tick();
    expect(writes).toEqual(['abc', 'd']);
  });

  it('writes at once when flushed (before a connection ends), and drops what is cleared', async () => {
    const writes: string[] = [];
    const out = new TickWriter((data) => writes.push(data.toString()));
    out.push(Buffer.from('last'));
    out.flush();
    expect(writes).toEqual(['last']);
    out.push(Buffer.from('dropped'));
    out.clear();
    await tick();
    expect(writes).toEqual(['last']);
  });
});
