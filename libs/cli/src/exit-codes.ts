/** Exit codes every program uses, so scripts can trust them. */
export const ExitCode = {
  /** Everything worked. */
  Ok: 0,
  /** The program ran but the result is bad: replies lost, data mismatch, edit not stored. */
  Failure: 1,
  /** Wrong command line, or the service could not be reached or started. */
  Usage: 2,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  Interrupted: 130,
} as const;
