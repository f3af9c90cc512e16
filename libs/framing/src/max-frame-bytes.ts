import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT } from './constants';
import { InvalidMaxFrameBytesError } from './errors';

/** Applies the default and rejects limits no uint32 header could respect, so a typo fails at start-up. */
export function resolveMaxFrameBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(value) || value < 1 || value > MAX_FRAME_BYTES_LIMIT) {
    throw new InvalidMaxFrameBytesError(value);
  }
  return value;
}
