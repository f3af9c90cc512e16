// Every fuzz target, by the name tools/fuzz.mjs takes on its command line.
import type { FuzzTarget } from '../support/fuzz-target';
import { frameDecoderTarget } from './frame-decoder';
import { messageDecoderTarget } from './message-decoder';
import { messageHandlingTarget, smallFramesTarget } from './message-handling';

/** The targets in the order a full run goes through them (cheapest first). */
export const FUZZ_TARGETS: readonly FuzzTarget<never>[] = [
  frameDecoderTarget as FuzzTarget<never>,
  messageDecoderTarget as FuzzTarget<never>,
  messageHandlingTarget as FuzzTarget<never>,
  smallFramesTarget as FuzzTarget<never>,
];

/** The target of that name, or undefined. */
export function findFuzzTarget(name: string): FuzzTarget<never> | undefined {
  return FUZZ_TARGETS.find((target) => target.name === name);
}
