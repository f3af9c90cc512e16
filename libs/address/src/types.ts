/** An IP version: what `familyOf` returns and `-4` / `-6` select. */
export type Family = 4 | 6;

/** A host (name or address literal, no brackets) and a port, as the user gave them. */
export interface HostPort {
  host: string;
  port: number;
}

/** One address a name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: Family;
}

/** One address that was tried and why it failed. */
export interface ConnectAttempt {
  address: string;
  family: Family;
  /** e.g. 'ECONNREFUSED connection refused' or 'timed out'. */
  error: string;
}
