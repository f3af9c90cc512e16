// Which web pages may open a WebSocket to this server. A browser sends the page's origin with
// every WebSocket upgrade and lets any page connect anywhere, so without this check any site a
// user visits could edit their documents through their browser (cross-site WebSocket hijacking).
// Clients that are not browsers send no Origin and are let through: they could send any Origin.

/** The origins allowed to connect: `same` (the page's own: the request's Host), that and a list, or any (`*`). */
export type OriginPolicy =
  { readonly kind: 'same' } | { readonly kind: 'any' } | { readonly kind: 'list'; readonly origins: ReadonlySet<string> };

/** The default: only pages this server served itself. */
export const SAME_ORIGIN: OriginPolicy = Object.freeze({ kind: 'same' });

/** A value of --allow-origin that is not a list of origins. */
export class OriginListError extends Error {
  readonly code = 'COLLAB_ERR_ORIGIN_LIST';
  constructor(message: string) {
    super(message);
    this.name = 'OriginListError';
  }
}

/**
 * Parses `--allow-origin`: `*` (any page), or origins separated by commas
 * (`https://notes.example.org,http://localhost:3000`), allowed besides this server's own pages;
 * each is scheme, host and port, no path.
 */
export function parseOriginPolicy(value: string): OriginPolicy {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new OriginListError('must be * or a comma-separated list of origins such as https://example.org');
  if (items.includes('*')) {
    if (items.length > 1) throw new OriginListError('* allows every origin; list no others beside it');
    return { kind: 'any' };
  }
  const origins = new Set<string>();
  for (const item of items) origins.add(normalizeOrigin(item));
  return { kind: 'list', origins };
}

function normalizeOrigin(item: string): string {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    throw new OriginListError(`${JSON.stringify(item)} is not an origin (scheme://host[:port], e.g. https://example.org)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OriginListError(`${JSON.stringify(item)} is not an http or https origin`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password)
    throw new OriginListError(`${JSON.stringify(item)} has more than an origin: give only scheme://host[:port]`);
  return url.origin;
}

/**
 * Whether a WebSocket upgrade with this Origin header may go on. `host` is the request's Host
 * header and `secure` whether it came over TLS: together they are the page's own origin.
 */
export function originAllowed(policy: OriginPolicy, origin: string | undefined, host: string | undefined, secure: boolean): boolean {
  if (origin === undefined) return true;
  if (policy.kind === 'any') return true;
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return false; // 'null' (a file, a sandboxed frame) and garbage
  }
  if (normalized === 'null') return false;
  if (policy.kind === 'list' && policy.origins.has(normalized)) return true;
  if (!host) return false;
  try {
    return new URL(`${secure ? 'https' : 'http'}://${host}`).origin === normalized;
  } catch {
    return false;
  }
}

/** The policy as the start-up log says it. */
export function describeOriginPolicy(policy: OriginPolicy): string {
  if (policy.kind === 'any') return 'pages from any origin';
  if (policy.kind === 'same') return "only this server's own pages";
  return `this server's own pages and those from ${[...policy.origins].join(', ')}`;
}
