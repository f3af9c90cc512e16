import { ConnectError, suggestBracketedPort } from '@collab/address';

/**
 * `::1:8081` is a valid IPv6 address, so it is tried as one (on the default port) and fails
 * far from loopback; when connecting failed, the error says what was probably meant.
 */
export function withPortHint(error: unknown, typed: string): unknown {
  if (!(error instanceof ConnectError)) return error;
  const suggestion = suggestBracketedPort(typed);
  if (!suggestion) return error;
  return new ConnectError(`${error.message}; did you mean ${suggestion}?`, error.attempts, { cause: error });
}
