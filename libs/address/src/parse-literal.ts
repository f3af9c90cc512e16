import ipaddr from 'ipaddr.js';

/** Parses an IP address literal, or returns undefined for anything else (a host name). */
export function parseLiteral(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  // Only dotted four-part decimal counts as IPv4: '127.1' or '1234' are names to
  // getaddrinfo, and node's net.isIP agrees.
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return ipaddr.IPv4.parse(address);
  if (ipaddr.IPv6.isValid(address)) return ipaddr.IPv6.parse(address);
  return undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address, so both print and compare as IPv4. */
export function unmapLiteral(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}
