import { InvalidArgumentError } from 'commander';

/** A commander argument parser for an integer in [min, max], with a sentence naming the limits. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const trimmed = value.trim();
    const n = /^[-+]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A commander argument parser for a number of seconds (fractions allowed) in [min, max]. */
export function secondsIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const trimmed = value.trim().replace(/s$/, '');
    const n = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a number of seconds from ${min} to ${max}.`);
    }
    return n;
  };
}

/** The TCP port parser: 0 (any free port, for tests) to 65535. */
export const port = integerIn(0, 65535);

/** A commander argument parser for a switch: on, true, yes, 1 or off, false, no, 0 (any case). */
export function onOff(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new InvalidArgumentError('must be on or off (true/false, yes/no, 1/0 also do).');
}
