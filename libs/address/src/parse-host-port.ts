import { parseLiteral } from './parse-literal';
import { InvalidAddressError } from './errors';
import type { HostPort } from './types';

const MAX_PORT = 65535;

/** Reads a port the way a user types it; 0 is refused because nobody can connect to it. */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= MAX_PORT)) {
    throw new InvalidAddressError(`port must be a whole number from 1 to ${MAX_PORT} (got "${text}")`);
  }
  return port;
}

/** Parses what a user types as a server: a name or address, with an optional port ('[::1]:8081', 'host:80'). */
export function parseHostPort(input: string, defaultPort: number): HostPort {
  if (!Number.isInteger(defaultPort) || defaultPort < 1 || defaultPort > MAX_PORT) {
    throw new InvalidAddressError(`default port must be a whole number from 1 to ${MAX_PORT} (got ${defaultPort})`);
  }
  const text = input.trim();
  if (text === '') throw new InvalidAddressError('the server address is empty');

  if (text.startsWith('[')) return parseBracketed(text, defaultPort);

  const colons = text.split(':').length - 1;
  if (colons > 1) {
    // More than one colon can only be a bare IPv6 literal, which cannot carry a port.
    if (!isIPv6Literal(text)) {
      throw new InvalidAddressError(`"${text}" is not a valid IPv6 address; write an IPv6 address with a port as [address]:port`);
    }
    return { host: text, port: defaultPort };
  }
  const [host, portText] = colons === 1 ? splitAt(text, text.indexOf(':')) : [text, undefined];
  checkHostName(host, text);
  return { host, port: portText === undefined ? defaultPort : parsePortOf(portText, text) };
}

function parseBracketed(text: string, defaultPort: number): HostPort {
  const close = text.indexOf(']');
  if (close < 0) throw new InvalidAddressError(`"${text}" has a "[" without a matching "]"`);
  const host = text.slice(1, close);
  if (!isIPv6Literal(host)) {
    throw new InvalidAddressError(`"${host}" is not an IPv6 address; brackets are only for IPv6 addresses`);
  }
  const rest = text.slice(close + 1);
  if (rest === '') return { host, port: defaultPort };
  if (!rest.startsWith(':')) throw new InvalidAddressError(`"${text}" has unexpected text after "]"`);
  return { host, port: parsePortOf(rest.slice(1), text) };
}

// Syntax only: an IPv4-mapped address is still written as IPv6 here.
function isIPv6Literal(text: string): boolean {
  return parseLiteral(text)?.kind() === 'ipv6';
}

function splitAt(text: string, index: number): [string, string] {
  return [text.slice(0, index), text.slice(index + 1)];
}

function parsePortOf(portText: string, whole: string): number {
  if (portText === '') throw new InvalidAddressError(`"${whole}" ends with ":" but has no port after it`);
  try {
    return parsePort(portText);
  } catch (err) {
    throw new InvalidAddressError(`"${whole}" has a bad port: ${(err as Error).message}`, { cause: err });
  }
}

function checkHostName(host: string, whole: string): void {
  if (host === '') throw new InvalidAddressError(`"${whole}" has no host before the port`);
  // Only what can never be part of a name or an IPv4 literal; getaddrinfo judges the rest.
  if (/[\s[\]/@%]/.test(host)) throw new InvalidAddressError(`"${host}" is not a valid host name or address`);
}
