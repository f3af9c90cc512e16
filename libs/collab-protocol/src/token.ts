import { createHash, timingSafeEqual } from 'node:crypto';

// Hashing first gives timingSafeEqual the equal-length inputs it requires, so neither the
// comparison time nor an early length check tells a guesser how long the real token is.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares a presented token with the expected one in time independent of where they differ. */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
