// CI's short run of the message decoder fuzz target (fuzz/targets/message-decoder.ts); the long
// run is `npm run fuzz` (tools/fuzz.mjs). A failure prints fast-check's seed and counterexample.
import { assertFuzzTarget } from '../support/fuzz-target';
import { messageDecoderTarget } from '../targets/message-decoder';

describe('decodeMessage fuzzing', () => {
  it('returns a stable Message or a ProtocolError for 10,000 random and mutated payloads', async () => {
    await assertFuzzTarget(messageDecoderTarget, { numRuns: 10_000 });
  }, 60_000);
});
