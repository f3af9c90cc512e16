import { familyOf } from './family-of';
import { normalizeAddress } from './normalize-address';

/** 'host:port' as a user would type it back: IPv6 in brackets, IPv4-mapped as plain IPv4. */
export function formatEndpoint(address: string, port: number): string {
  const host = normalizeAddress(address);
  return familyOf(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
