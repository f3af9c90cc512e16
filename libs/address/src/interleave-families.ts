import type { ResolvedAddress } from './types';

/** RFC 8305 section 4 order: IPv6 first, then alternate families, keeping the resolver's order within each. */
export function interleaveFamilies(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const v6 = addresses.filter((a) => a.family === 6);
  const v4 = addresses.filter((a) => a.family === 4);
  const ordered: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    if (i < v6.length) ordered.push(v6[i]);
    if (i < v4.length) ordered.push(v4[i]);
  }
  return ordered;
}
