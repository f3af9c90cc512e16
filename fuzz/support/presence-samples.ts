// Awareness (presence) updates as a hostile or careless client writes them: entries for any
// client id, its own, or one another connection holds; states that are ordinary, removals,
// huge, nested thousands of levels deep, not JSON at all, or JSON that grows when it is parsed
// and written again (`1E9` becomes `1000000000`). JSON text is built as a string, never with
// JSON.stringify on a deep value, so building a deep state cannot overflow the stack.
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { jsonArb } from './yjs-samples';

/** Whose id an entry names: a number, the input client's own, or that of a client another connection holds. */
export type PresenceId = number | 'own' | 'observer' | 'editor';

/** The JSON text of an entry's state. */
export type PresenceState =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'deep'; readonly depth: number }
  | { readonly kind: 'huge'; readonly bytes: number }
  | { readonly kind: 'inflating'; readonly count: number }
  | { readonly kind: 'text'; readonly text: string };

/** One entry: an id, its clock, its state (`null` JSON: the id is gone). */
export interface PresenceEntry {
  readonly id: PresenceId;
  readonly clock: number;
  readonly state: PresenceState;
}

const userArb = fc.record({ user: fc.record({ name: fc.string({ maxLength: 8 }), color: fc.constantFrom('#f00', '') }) });

/** Arbitrary state, ordinary ones likeliest. */
export function presenceStateArb(limits: { maxStateBytes: number; maxDepth: number }): fc.Arbitrary<PresenceState> {
  const { maxStateBytes, maxDepth } = limits;
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('json' as const), value: userArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.constant(null) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), value: jsonArb }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('deep' as const),
        depth: fc.oneof(
          fc.integer({ min: maxDepth - 2, max: maxDepth + 2 }),
          fc.constantFrom(64, 1_000, Math.floor(maxStateBytes / 2) + 1),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('huge' as const),
        bytes: fc.oneof(fc.integer({ min: maxStateBytes - 4, max: maxStateBytes + 4 }), fc.constantFrom(1_000, 2 * maxStateBytes)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('inflating' as const), count: fc.integer({ min: 1, max: Math.floor(maxStateBytes / 4) }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.constantFrom('{not json', '', 'undefined', '[1,', '"\\ud800"') }),
    },
  );
}

/** Arbitrary entry, ids of every kind. */
export function presenceEntryArb(limits: { maxStateBytes: number; maxDepth: number }): fc.Arbitrary<PresenceEntry> {
  return fc.record({
    id: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<PresenceId>('own', 'observer', 'editor') },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3) },
      { weight: 1, arbitrary: fc.maxSafeNat() },
    ),
    clock: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(0), fc.maxSafeNat()),
    state: presenceStateArb(limits),
  });
}

/** The JSON text of a state. */
export function presenceJson(state: PresenceState): string {
  switch (state.kind) {
    case 'json':
      return JSON.stringify(state.value) ?? 'null';
    case 'deep':
      return `${'['.repeat(state.depth)}${']'.repeat(state.depth)}`;
    case 'huge': {
      const frame = '{"user":{"name":""}}';
      return `{"user":{"name":"${'x'.repeat(Math.max(0, state.bytes - frame.length))}"}}`;
    }
    case 'inflating':
      return `[${Array(state.count).fill('1E9').join(',')}]`;
    case 'text':
      return state.text;
  }
}

/** Encodes entries as y-protocols lays out an awareness update, ids resolved by `idOf`. */
export function encodePresenceEntries(entries: readonly PresenceEntry[], idOf: (id: PresenceId) => number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, idOf(entry.id));
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, presenceJson(entry.state));
  }
  return encoding.toUint8Array(encoder);
}
