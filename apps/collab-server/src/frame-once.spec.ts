import { frameOnce } from './frame-once';

describe('frameOnce', () => {
  const counting = () => {
    const framed: Uint8Array[] = [];
    const frameOf = frameOnce((payload) => {
      framed.push(payload);
      return Buffer.concat([Buffer.of(payload.length), payload]);
    });
    return { framed, frameOf };
  };

  it('frames a payload sent to client after client once, and hands out the same buffer', () => {
    const { framed, frameOf } = counting();
    const payload = Uint8Array.of(1, 2, 3);
    const first = frameOf(payload);
    for (let i = 0; i < 20; i++) expect(frameOf(payload)).toBe(first);
    expect(framed).toEqual([payload]);
    expect([...first]).toEqual([3, 1, 2, 3]);
  });

  it('keeps the frames of a few payloads sent in turn (a relay of several updates to each client)', () => {
    const { framed, frameOf } = counting();
    const payloads = Array.from({ length: 8 }, (_, i) => Uint8Array.of(i));
    const frames = payloads.map(frameOf);
    for (let client = 0; client < 5; client++) payloads.forEach((p, i) => expect(frameOf(p)).toBe(frames[i]));
    expect(framed).toHaveLength(8);
  });

  it('goes by identity, not content, and frames again what it no longer remembers', () => {
    const { framed, frameOf } = counting();
    const a = Uint8Array.of(7);
    const b = Uint8Array.of(7);
    expect(frameOf(a)).not.toBe(frameOf(b));
    for (let i = 0; i < 8; i++) frameOf(Uint8Array.of(i));
    const again = frameOf(a);
    expect([...again]).toEqual([1, 7]);
    expect(framed.filter((p) => p === a)).toHaveLength(2);
  });
});
