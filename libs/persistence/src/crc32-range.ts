// Checksums of arbitrary byte ranges in O(log n) each, from prefix checksums and the CRC
// "combine" identity crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B). The log scanner uses it to ask
// "does any intact record start after this damage?" without re-hashing the tail once per byte.

import { crc32 } from './crc32';

const POLY = 0xedb88320;

/** a·b modulo the CRC polynomial, in the reflected bit order CRC-32 uses. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

// X2N[k] = x^(2^k) mod P, so x^n is a product of at most 32 table entries.
const X2N = (() => {
  const table = new Uint32Array(32);
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    table[k] = p;
    p = multModP(p, p);
  }
  return table;
})();

/** x^(8·bytes) mod P: the factor that shifts a checksum past `bytes` bytes. */
function shiftFactor(bytes: number): number {
  let p = 0x80000000; // x^0
  let k = 3; // 8·bytes = bytes·2^3
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) if (n & 1) p = multModP(X2N[k & 31], p);
  return p;
}

/** Prefix checksums of `bytes[start, end)`: result[i] is the CRC-32 of `bytes[start, start + i)`. */
export function prefixCrcs(bytes: Uint8Array, start: number, end: number): Uint32Array {
  const out = new Uint32Array(end - start + 1);
  let c = 0;
  for (let i = start; i < end; i++) {
    c = crc32(bytes, i, i + 1, c);
    out[i - start + 1] = c;
  }
  return out;
}

/** CRC-32 of `bytes[base + a, base + b)` given `prefix = prefixCrcs(bytes, base, ...)`. */
export function rangeCrc(prefix: Uint32Array, a: number, b: number): number {
  return (prefix[b] ^ multModP(shiftFactor(b - a), prefix[a])) >>> 0;
}
