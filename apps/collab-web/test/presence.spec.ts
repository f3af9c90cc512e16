import { colorForName, peopleOf, safeColor, safeName, sanitizeStates, userFor } from '../src/presence';

describe('presence', () => {
  it('gives a name the same colour every time', () => {
    expect(colorForName('ann')).toBe(colorForName('ann'));
    expect(userFor('ann')).toEqual({ name: 'ann', color: colorForName('ann'), colorLight: `${colorForName('ann')}33` });
  });

  it("makes a peer's name and colour safe before anything shows them", () => {
    expect(safeName('\u001b[31mann\u0007')).toBe('[31mann');
    expect(safeName('')).toBe('anonymous');
    expect(safeName('x'.repeat(50))).toHaveLength(32);
    expect(safeColor('red; background: url(https://evil.example)', 3)).toMatch(/^#[0-9a-f]{6}$/);
    const states = new Map<number, Record<string, unknown>>([
      [1, { user: { name: 'me', color: 'not checked: it is ours' } }],
      [2, { user: { name: 'eve', color: 'red;x', colorLight: '#ffffff33' } }],
      [3, {}],
    ]);
    sanitizeStates(states, 1);
    expect(states.get(1)).toEqual({ user: { name: 'me', color: 'not checked: it is ours' } });
    expect(states.get(2)!.user).toEqual({ name: 'eve', color: expect.stringMatching(/^#[0-9a-f]{6}$/), colorLight: '#ffffff33' });
    expect((states.get(3)!.user as { name: string }).name).toBe('anonymous');
  });

  it('gives cursors the shape y-codemirror.next reads (every field present), and drops those that name nothing', () => {
    const states = new Map<number, Record<string, unknown>>([
      [
        2,
        {
          user: { name: 'terminal' },
          cursor: { anchor: { tname: 'content', assoc: -1 }, head: { item: { client: 5, clock: 3 }, assoc: -1 } },
        },
      ],
      [3, { user: { name: 'junk' }, cursor: { anchor: { item: { client: 'x' } }, head: 7 } }],
    ]);
    sanitizeStates(states, 1);
    expect(states.get(2)!.cursor).toEqual({
      anchor: { type: null, tname: 'content', item: null, assoc: -1 },
      head: { type: null, tname: null, item: { client: 5, clock: 3 }, assoc: -1 },
    });
    expect(states.get(3)!.cursor).toBeNull();
  });

  it('lists us first, then the others by name', () => {
    const states = new Map<number, Record<string, unknown>>([
      [5, { user: { name: 'zoe' } }],
      [6, { user: { name: 'me' } }],
      [7, { user: { name: 'amy' } }],
    ]);
    expect(peopleOf(states, 6).map((p) => [p.name, p.self])).toEqual([
      ['me', true],
      ['amy', false],
      ['zoe', false],
    ]);
  });
});
