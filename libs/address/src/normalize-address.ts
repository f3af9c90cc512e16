import type ipaddr from 'ipaddr.js';
import { parseLiteral, unmapLiteral } from './parse-literal';

/** One printed form per address, so logs and comparisons agree: IPv4-mapped becomes IPv4, IPv6 is RFC 5952. */
export function normalizeAddress(address: string): string {
  const ip = parseLiteral(address);
  if (ip === undefined) return address;
  const plain = unmapLiteral(ip);
  if (plain.kind() === 'ipv6') return (plain as ipaddr.IPv6).toRFC5952String();
  // A typed IPv4 literal is already in its only four-part decimal form.
  return ip === plain ? address : plain.toString();
}
