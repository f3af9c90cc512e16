import { parseLiteral, unmapLiteral } from './parse-literal';

/** True for a loopback address ('127.0.0.1', '::1', '::ffff:127.0.0.1') or the name 'localhost'. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const ip = parseLiteral(host);
  return ip !== undefined && unmapLiteral(ip).range() === 'loopback';
}
