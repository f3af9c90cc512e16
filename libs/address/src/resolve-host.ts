import { lookup as dnsLookup } from 'node:dns/promises';
import { describeSystemError } from './describe-system-error';
import { HostNotFoundError } from './errors';
import { familyOf } from './family-of';
import { normalizeAddress } from './normalize-address';
import type { Family, ResolvedAddress } from './types';

/** The resolver behind resolveHost; tests pass a fake so no query leaves the machine. */
export type Lookup = (host: string, family: 0 | 4 | 6) => Promise<ResolvedAddress[]>;

/** Options of resolveHost. */
export interface ResolveOptions {
  /** 0 (default) for every family, 4 or 6 for one. */
  family?: 0 | 4 | 6;
  lookup?: Lookup;
}

/** getaddrinfo through dns.lookup, the same answer every other program on the machine gets. */
export const systemLookup: Lookup = async (host, family) => {
  const found = await dnsLookup(host, { all: true, family });
  return found.map(({ address, family: f }) => ({ address, family: f === 6 ? 6 : 4 }));
};

// Words for the getaddrinfo failures people actually meet; anything else shows its code.
const LOOKUP_FAILURES: Record<string, string> = {
  ENOTFOUND: 'was not found',
  EAI_NONAME: 'was not found',
  ENODATA: 'has no addresses',
  EAI_NODATA: 'has no addresses',
  EAI_AGAIN: 'could not be resolved: the name server did not answer, try again later',
  EAI_FAIL: 'could not be resolved: the name server failed',
};

/** Every address of a host (all families unless one is asked for), literals without DNS, no duplicates. */
export async function resolveHost(host: string, options: ResolveOptions = {}): Promise<ResolvedAddress[]> {
  const family = options.family ?? 0;
  let found: ResolvedAddress[];
  if (familyOf(host) !== undefined) {
    found = [{ address: host, family: familyOf(host) as Family }];
  } else {
    try {
      found = await (options.lookup ?? systemLookup)(host, family);
    } catch (err) {
      throw new HostNotFoundError(host, lookupFailureMessage(host, err), { cause: err });
    }
  }

  const seen = new Set<string>();
  const addresses: ResolvedAddress[] = [];
  for (const entry of found) {
    const address = normalizeAddress(entry.address);
    const entryFamily = familyOf(address) ?? entry.family;
    const key = `${entryFamily}/${address}`;
    if ((family === 0 || entryFamily === family) && !seen.has(key)) {
      seen.add(key);
      addresses.push({ address, family: entryFamily });
    }
  }
  if (addresses.length === 0) {
    const what = family === 0 ? 'has no addresses' : `has no IPv${family} address`;
    throw new HostNotFoundError(host, `host "${host}" ${what}`);
  }
  return addresses;
}

function lookupFailureMessage(host: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words = code !== undefined ? LOOKUP_FAILURES[code] : undefined;
  if (words !== undefined) return `host "${host}" ${words} (${code})`;
  return `host "${host}" could not be resolved (${describeSystemError(err)})`;
}
