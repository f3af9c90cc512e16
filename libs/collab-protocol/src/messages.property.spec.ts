import fc from 'fast-check';
import { ErrorCode, MessageType, ProtocolError, SyncType, decodeMessage, encodeMessage, type Message } from './index';

const RUNS = 20_000;

const bytesArb = fc.uint8Array({ maxLength: 48 });
const stringArb = fc.string({ unit: 'binary', maxLength: 24 });
const uintArb = fc.oneof(fc.nat({ max: 300 }), fc.maxSafeNat());

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant(MessageType.Sync as const),
    syncType: fc.constantFrom(SyncType.Step1, SyncType.Step2, SyncType.Update),
    data: bytesArb,
  }),
  fc.record({ type: fc.constant(MessageType.Awareness as const), update: bytesArb }),
  fc.record({ type: fc.constant(MessageType.Auth as const), body: bytesArb }),
  fc.constant({ type: MessageType.QueryAwareness as const }),
  fc.record({
    type: fc.constant(MessageType.Hello as const),
    version: fc.oneof(fc.constant(1), uintArb),
    document: stringArb,
    clientName: stringArb,
    token: stringArb,
  }),
  fc.record({
    type: fc.constant(MessageType.Welcome as const),
    version: fc.oneof(fc.constant(1), uintArb),
    server: stringArb,
    document: stringArb,
    maxFrameBytes: uintArb,
  }),
  fc.record({ type: fc.constant(MessageType.Error as const), code: uintArb, message: stringArb }),
  fc.record({ type: fc.constant(MessageType.Ack as const), count: uintArb }),
  fc.constant({ type: MessageType.Ping as const }),
  fc.constant({ type: MessageType.Pong as const }),
  fc.constant({ type: MessageType.Flush as const }),
  fc.constant({ type: MessageType.Flushed as const }),
);

/** Decodes, and fails the property if anything but a well-formed ProtocolError escapes. */
function decodeOrRefuse(payload: Uint8Array): Message | ProtocolError {
  try {
    return decodeMessage(payload);
  } catch (err) {
    // Plain checks, not expect(): this runs hundreds of thousands of times.
    const wellFormed =
      err instanceof ProtocolError &&
      err.code === 'COLLAB_ERR_PROTOCOL' &&
      (err.errorCode === ErrorCode.ProtocolError || err.errorCode === ErrorCode.UnsupportedVersion) &&
      /^[A-Z].*\.$/s.test(err.message);
    if (!wellFormed) throw new Error(`decodeMessage threw something other than a well-formed ProtocolError: ${String(err)}`);
    return err;
  }
}

/** Whatever decodes must re-encode to a payload that decodes to the same message (no lossy field). */
function expectStable(msg: Message): void {
  expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
}

const TYPE_BYTES = [0, 1, 2, 3, 100, 101, 102, 103, 104, 105];
// Pure noise almost never starts with a known type; half the inputs do, so the bodies get exercised.
const noiseArb = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.tuple(fc.constantFrom(...TYPE_BYTES), fc.uint8Array({ maxLength: 40 })).map(([type, body]) => Uint8Array.of(type, ...body)),
);

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(payload: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  const bytes = Array.from(payload);
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1);
    if (m.kind === 'set' && at < bytes.length) bytes[at] = m.value;
    if (m.kind === 'insert') bytes.splice(at, 0, m.value);
    if (m.kind === 'delete') bytes.splice(at, 1);
    if (m.kind === 'truncate') bytes.length = at;
  }
  return Uint8Array.from(bytes);
}

describe('decodeMessage properties', () => {
  it('round-trips every message', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
      }),
      { numRuns: RUNS },
    );
  });

  it('ignores any bytes appended after the listed fields', () => {
    fc.assert(
      fc.property(
        messageArb.filter((msg) => msg.type !== MessageType.Auth),
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        (msg, extra) => {
          const payload = encodeMessage(msg);
          const extended = new Uint8Array(payload.length + extra.length);
          extended.set(payload);
          extended.set(extra, payload.length);
          expect(decodeMessage(extended)).toEqual(msg);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses every truncation of a valid message with ProtocolError (AUTH: a shorter body)', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        const payload = encodeMessage(msg);
        for (let cut = 0; cut < payload.length; cut++) {
          const result = decodeOrRefuse(payload.subarray(0, cut));
          if (msg.type === MessageType.Auth && cut >= 1) {
            expect(result).toEqual({ type: MessageType.Auth, body: payload.subarray(1, cut) });
          } else if (!(result instanceof ProtocolError)) {
            throw new Error(`A payload cut to ${cut} of ${payload.length} bytes decoded as ${JSON.stringify(result)}.`);
          }
        }
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('throws nothing but ProtocolError on random bytes, and what it accepts re-encodes stably', () => {
    fc.assert(
      fc.property(noiseArb, (payload) => {
        const result = decodeOrRefuse(payload);
        if (!(result instanceof ProtocolError)) expectStable(result);
      }),
      { numRuns: RUNS },
    );
  });

  it('throws nothing but ProtocolError on mutated valid messages, and what it accepts re-encodes stably', () => {
    fc.assert(
      fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (msg, mutations) => {
        const result = decodeOrRefuse(mutate(encodeMessage(msg), mutations));
        if (!(result instanceof ProtocolError)) expectStable(result);
      }),
      { numRuns: RUNS },
    );
  });
});
