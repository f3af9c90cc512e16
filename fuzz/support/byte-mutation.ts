// Byte-level mutations of valid encodings, the way a coverage-guided fuzzer mutates its
// corpus: flip, overwrite, insert, delete, cut, duplicate, and plant "interesting" values
// (0, 0x7f, 0x80, 0xff, lengths that overflow) where varUints and headers live.
import fc from 'fast-check';

/** One edit of a byte string; positions are folded into its length when applied. */
export type Mutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly count: number }
  | { readonly kind: 'varuint'; readonly at: number; readonly value: number };

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff];
// Values whose varUint encodings hit lib0's and Yjs's edge cases: one byte, two bytes, 2^31,
// 2^32, 2^53 - 1 (the largest lib0 reads), and lengths just past what follows.
const INTERESTING_VALUES = [0, 1, 2, 127, 128, 255, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];

const byteArb = fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 }));

/** Arbitrary single mutation; fast-check's bias makes small `at` likelier, where headers and types live. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: byteArb }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('varuint' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...INTERESTING_VALUES), fc.maxSafeNat()),
  }),
);

/** One to `max` mutations. */
export function mutationsArb(max = 4): fc.Arbitrary<Mutation[]> {
  return fc.array(mutationArb, { minLength: 1, maxLength: max });
}

function varUint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push(0x80 | (rest % 128));
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** `bytes` with `deleteCount` bytes at `at` replaced by `insert` (a new array; Array.prototype.splice on bytes). */
function splice(bytes: Uint8Array, at: number, deleteCount: number, insert: ArrayLike<number> = []): Uint8Array {
  const end = Math.min(bytes.length, at + deleteCount);
  const out = new Uint8Array(bytes.length - (end - at) + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(end), at + insert.length);
  return out;
}

/** Applies mutations in order to a copy of `bytes`. */
export function mutateBytes(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  // Typed arrays, not number arrays: inputs reach tens of kilobytes (deep or huge values).
  let out: Uint8Array = bytes.slice();
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    switch (m.kind) {
      case 'set':
        if (at < out.length) out[at] = m.value;
        break;
      case 'flip':
        if (at < out.length) out[at] ^= 1 << m.bit;
        break;
      case 'insert':
        out = splice(out, at, 0, m.bytes);
        break;
      case 'delete':
        out = splice(out, at, m.count);
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'duplicate':
        out = splice(out, at, 0, out.slice(at, at + m.count));
        break;
      case 'varuint': {
        // Replace the varUint that starts here (or the byte, if none ends) by another value.
        let end = at;
        while (end < out.length && out[end] >= 0x80) end++;
        out = splice(out, at, Math.min(end + 1, out.length) - at, varUint(m.value));
        break;
      }
    }
  }
  return Uint8Array.from(out);
}

/** Splits `bytes` at the given cut points (folded into its length); equal cuts give empty chunks. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const points = cuts.map((cut) => cut % (buffer.length + 1)).sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, buffer.length]) {
    chunks.push(buffer.subarray(start, point));
    start = point;
  }
  return chunks;
}
