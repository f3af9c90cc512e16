import { parseLiteral, unmapLiteral } from './parse-literal';
import type { Family } from './types';

/** 4 or 6 for an address literal (IPv4-mapped counts as 4), undefined for a host name. */
export function familyOf(address: string): Family | undefined {
  const ip = parseLiteral(address);
  if (ip === undefined) return undefined;
  return unmapLiteral(ip).kind() === 'ipv4' ? 4 : 6;
}
