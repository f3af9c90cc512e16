// CI's short run of the frame decoder fuzz target (fuzz/targets/frame-decoder.ts); the long
// run is `npm run fuzz` (tools/fuzz.mjs). A failure prints fast-check's seed and counterexample.
import { assertFuzzTarget } from '../support/fuzz-target';
import { frameDecoderTarget } from '../targets/frame-decoder';

describe('FrameDecoder fuzzing', () => {
  it('yields exact payloads or the right FramingError for 20,000 random and mutated streams', async () => {
    await assertFuzzTarget(frameDecoderTarget, { numRuns: 20_000 });
  }, 60_000);
});
