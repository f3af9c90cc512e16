import { parsePort } from './parse-host-port';
import { parseLiteral } from './parse-literal';

/**
 * For input like `::1:8081`, which is a valid IPv6 address (so it is taken as one, with the
 * default port) but was most likely meant as `::1` port 8081: returns `[::1]:8081`.
 * Undefined when the text is not such an address, or its last group cannot be a port, or
 * what comes before it is not an IPv6 address by itself.
 */
export function suggestBracketedPort(input: string): string | undefined {
  const text = input.trim();
  if (parseLiteral(text)?.kind() !== 'ipv6') return undefined;
  const lastColon = text.lastIndexOf(':');
  const head = text.slice(0, lastColon);
  const tail = text.slice(lastColon + 1);
  // `::1` splits into `::` and `1`: a port must follow a whole group, not the `::` itself.
  if (head.endsWith(':') || parseLiteral(head)?.kind() !== 'ipv6') return undefined;
  try {
    return `[${head}]:${parsePort(tail)}`;
  } catch {
    return undefined;
  }
}
