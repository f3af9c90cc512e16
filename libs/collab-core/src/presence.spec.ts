import fc from 'fast-check';
import * as Y from 'yjs';
import { PresenceRefusedError } from './errors';
import { PresenceTable, nestsWithin, writtenJsonBytes } from './presence';
import { encodeAwarenessEntries } from './testing';

const LIMITS = { maxStateBytes: 1024, maxDepth: 8, maxIdsPerPeer: 2 };

const update = encodeAwarenessEntries;

describe('PresenceTable', () => {
  let table: PresenceTable;
  let relayed: Array<{ ids: number[]; origin: unknown }>;
  const ann = { label: 'ann' };
  const eve = { label: 'eve' };

  beforeEach(() => {
    relayed = [];
    table = new PresenceTable(new Y.Doc(), LIMITS, (ids, origin) => relayed.push({ ids, origin }));
  });
  afterEach(() => table.destroy());

  it('sets a state and relays it with its origin', () => {
    table.apply(ann, update([10, 1, '{"user":{"name":"ann"}}']));
    expect(table.awareness.getStates().get(10)).toEqual({ user: { name: 'ann' } });
    expect(relayed).toEqual([{ ids: [10], origin: ann }]);
  });

  it('refuses a state larger than the limit, applying nothing', () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    expect(() => table.apply(ann, update([10, 1, '{}'], [11, 1, big]))).toThrow(PresenceRefusedError);
    expect(table.size).toBe(0);
  });

  it('refuses a state nested deeper than the limit (it would overflow the stack of every later encoding)', () => {
    expect(() => table.apply(ann, update([10, 1, '['.repeat(9) + ']'.repeat(9)]))).toThrow(/at most 8 deep/);
    expect(() => table.apply(ann, update([10, 1, '['.repeat(8) + ']'.repeat(8)]))).not.toThrow();
  });

  it('refuses more presence ids from one connection than it may hold', () => {
    table.apply(ann, update([1, 1, '{}'], [2, 1, '{}']));
    expect(() => table.apply(ann, update([3, 1, '{}']))).toThrow(/at most 2 presence ids/);
    table.apply(ann, update([1, 2, '{"renewed":true}']));
    expect(table.awareness.getStates().get(1)).toEqual({ renewed: true });
  });

  it("sets aside another connection's id, so no one can show up under someone else's name or erase them", () => {
    table.apply(ann, update([10, 1, '{"user":{"name":"ann"}}']));
    expect(table.apply(eve, update([10, 5, '{"user":{"name":"eve"}}'])).contested).toEqual([10]);
    expect(table.apply(eve, update([10, 6, 'null'])).contested).toEqual([10]);
    expect(table.awareness.getStates().get(10)).toEqual({ user: { name: 'ann' } });
    // Ann's next update still counts (her clock was not pushed ahead).
    table.apply(ann, update([10, 2, '{"user":{"name":"ann 2"}}']));
    expect(table.awareness.getStates().get(10)).toEqual({ user: { name: 'ann 2' } });
  });

  it("drops quietly another connection's state sent back no newer than it is (y-websocket's provider echoes every presence)", () => {
    table.apply(ann, update([10, 3, '{"user":{"name":"ann"}}']));
    relayed = [];
    expect(table.apply(eve, update([10, 3, '{"user":{"name":"ann"}}']))).toEqual({ contested: [] });
    expect(table.apply(eve, update([10, 2, '{"user":{"name":"old"}}']))).toEqual({ contested: [] });
    expect(table.apply(eve, update([10, 4, '{"user":{"name":"eve"}}']))).toEqual({ contested: [10] });
    expect(table.awareness.getStates().get(10)).toEqual({ user: { name: 'ann' } });
    expect(relayed).toEqual([]);
  });

  it('drops removals of ids nobody holds, and forgets an id once it is gone', () => {
    const remembered = () => [...table.awareness.meta.keys()].filter((id) => id !== table.awareness.clientID).length;
    for (let id = 100; id < 10_100; id++) table.apply(eve, update([id, 1, 'null']));
    expect(remembered()).toBe(0);
    for (let round = 0; round < 100; round++) {
      table.apply(eve, update([round + 1, 1, '{}']));
      table.apply(eve, update([round + 1, 2, 'null']));
    }
    expect(table.size).toBe(0);
    expect(remembered()).toBe(0);
  });

  it('applies the removal of its own id in an update that also holds removals of ids nobody holds', () => {
    table.apply(ann, update([10, 1, '{}']));
    relayed = [];
    const ids = Array.from({ length: 1000 }, (_, i) => [5000 + i, 1, 'null'] as [number, number, string]);
    table.apply(ann, update(...ids.slice(0, 500), [10, 2, 'null'], ...ids.slice(500)));
    expect(table.size).toBe(0);
    expect(relayed).toEqual([{ ids: [10], origin: ann }]);
    // A state written as JSON that is not exactly `null` is read like any other.
    table.apply(ann, update([11, 1, ' null '], [12, 1, '{"a":1}']));
    expect([...table.awareness.getStates().keys()].filter((id) => id !== table.awareness.clientID)).toEqual([12]);
  });

  it('removes every state of a connection that leaves, and tells the others', () => {
    table.apply(ann, update([1, 1, '{}'], [2, 1, '{}']));
    relayed = [];
    table.remove(ann);
    expect(table.size).toBe(0);
    expect(relayed).toEqual([{ ids: [1, 2], origin: ann }]);
    // The ids are free again.
    table.apply(eve, update([1, 5, '{}']));
    expect(table.size).toBe(1);
  });

  describe('a state the server holds for a client with none of its own (a plain-text client)', () => {
    beforeEach(() => {
      jest.useFakeTimers();
      // A table made under the fake clock, so that y-protocols' check for outdated states runs on it too.
      table.destroy();
      table = new PresenceTable(new Y.Doc(), LIMITS, (ids, origin) => relayed.push({ ids, origin }));
    });
    afterEach(() => jest.useRealTimers());

    it('is set under a fresh id, relayed with the client as origin, and goes when the client does', () => {
      table.apply(ann, update([10, 1, '{"user":{"name":"ann"}}']));
      const text = { label: 'text' };
      table.hold(text, { user: { name: 'text (127.0.0.1:5000)' } });
      const [id] = table.idsHeldBy((owner) => owner === text);
      expect(id).not.toBe(10);
      expect(table.awareness.getStates().get(id!)).toEqual({ user: { name: 'text (127.0.0.1:5000)' } });
      expect(relayed.at(-1)).toEqual({ ids: [id], origin: text });
      // Nobody else may change or remove it.
      expect(table.apply(eve, update([id!, 10, '{"user":{"name":"eve"}}'])).contested).toEqual([id]);
      expect(table.apply(eve, update([id!, 11, 'null'])).contested).toEqual([id]);
      expect(table.awareness.getStates().get(id!)).toEqual({ user: { name: 'text (127.0.0.1:5000)' } });
      table.remove(text);
      expect(table.awareness.getStates().has(id!)).toBe(false);
      expect(relayed.at(-1)).toEqual({ ids: [id], origin: text });
      // The renewal stopped with the last state held.
      const before = relayed.length;
      jest.advanceTimersByTime(60_000);
      expect(relayed.length).toBe(before);
    });

    it('is renewed while the client stays, so no y-protocols client drops it as outdated (30 s)', () => {
      const text = { label: 'text' };
      table.hold(text, { user: { name: 'text' } });
      const [id] = table.idsHeldBy((owner) => owner === text);
      relayed = [];
      jest.advanceTimersByTime(95_000);
      expect(table.awareness.getStates().has(id!)).toBe(true);
      expect(relayed.length).toBeGreaterThanOrEqual(6);
      expect(relayed.every((r) => r.origin === text && r.ids.length === 1 && r.ids[0] === id)).toBe(true);
      expect(table.awareness.meta.get(id!)!.clock).toBe(1 + relayed.length);
    });
  });

  it('encodes every state in parts no larger than asked', () => {
    const peers = Array.from({ length: 6 }, (_, i) => ({ label: `p${i}` }));
    peers.forEach((peer, i) => table.apply(peer, update([i + 1, 1, JSON.stringify({ pad: 'y'.repeat(900) })])));
    const parts = table.encodeAll(2000);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= 2000)).toBe(true);
  });
});

describe('nestsWithin', () => {
  it('measures arrays and objects iteratively, at any depth', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(nestsWithin(deep, 16)).toBe(false);
    expect(nestsWithin({ a: [1, { b: 2 }] }, 3)).toBe(true);
    expect(nestsWithin({ a: [1, { b: 2 }] }, 2)).toBe(false);
    expect(nestsWithin('text', 1)).toBe(true);
  });
});

describe('writtenJsonBytes', () => {
  it('counts the bytes JSON.stringify writes for a parsed value, however the JSON was written', () => {
    const texts = fc.oneof(
      fc.json(),
      fc.constantFrom('[1E20,1e-7,-0,1e999,0.10]', '"\\u0041\\ud83d\\ude00\\ud800"', '{"__proto__":1,"a":[{},[]]}', 'null'),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const value: unknown = JSON.parse(text);
        expect(writtenJsonBytes(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
      }),
    );
  });
});
