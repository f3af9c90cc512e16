// Fuzz target 2: decodeMessage, fed random payloads and mutated encodings of every message
// type, with real content: SYNC carrying genuine Yjs updates and state vectors, AWARENESS
// carrying genuine awareness updates. Whatever decodes must survive a round trip and the
// functions the server and client call next on a decoded message (checkHello, checkWelcome,
// describeServerError, messageTypeName).
import fc from 'fast-check';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import {
  ErrorCode,
  MessageType,
  ProtocolError,
  SyncType,
  checkHello,
  checkWelcome,
  decodeMessage,
  describeServerError,
  encodeMessage,
  messageTypeName,
  type Message,
} from '@collab/collab-protocol';
import { mutateBytes, mutationsArb, type Mutation } from '../support/byte-mutation';
import { fail, sameBytes, type FuzzTarget } from '../support/fuzz-target';
import {
  awarenessEntryArb,
  editSessionArb,
  encodeAwarenessEntries,
  realAwarenessUpdate,
  replayEdits,
  newDoc,
} from '../support/yjs-samples';

/** One input: a payload made of noise, or a message encoded, then perhaps mutated or extended. */
export type MessageDecoderInput =
  | { readonly kind: 'random'; readonly bytes: Uint8Array }
  | { readonly kind: 'message'; readonly message: Message; readonly mutations: readonly Mutation[]; readonly extra: Uint8Array };

const TYPE_NUMBERS = [0, 1, 2, 3, 100, 101, 102, 103, 104, 105, 106, 107];
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const BYTE_FIELDS = ['data', 'update', 'body'] as const;

/** Field-by-field equality of two messages, byte fields compared by content. */
export function sameMessage(a: Message, b: Message): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => {
    const x = left[key];
    const y = right[key];
    if (x instanceof Uint8Array || y instanceof Uint8Array) {
      return x instanceof Uint8Array && y instanceof Uint8Array && sameBytes(x, y);
    }
    return Object.is(x, y);
  });
}

function payloadOf(input: MessageDecoderInput): Uint8Array {
  if (input.kind === 'random') return input.bytes;
  const encoded = encodeMessage(input.message);
  const mutated = input.mutations.length ? mutateBytes(encoded, input.mutations) : encoded;
  if (!input.extra.length) return mutated;
  const out = new Uint8Array(mutated.length + input.extra.length);
  out.set(mutated);
  out.set(input.extra, mutated.length);
  return out;
}

function leadingVarUint(payload: Uint8Array): number | undefined {
  try {
    return decoding.readVarUint(decoding.createDecoder(payload));
  } catch {
    return undefined;
  }
}

function checkRefusal(error: unknown, payload: Uint8Array): void {
  if (!(error instanceof ProtocolError)) fail(`decodeMessage threw something other than a ProtocolError: ${describe(error)}`);
  if (error.code !== 'COLLAB_ERR_PROTOCOL') fail(`a ProtocolError with code ${error.code}`);
  if (!/^[A-Z].*\.$/s.test(error.message)) fail(`the refusal is not a sentence: ${JSON.stringify(error.message)}`);
  if (error.errorCode === ErrorCode.UnsupportedVersion) {
    // ERROR 5 is for a HELLO or WELCOME of another version, never for other types. The type is
    // a varUint, and lib0 reads non-minimal ones too (0xe4 0x00 is 100, HELLO).
    const type = leadingVarUint(payload);
    if (type !== MessageType.Hello && type !== MessageType.Welcome) fail(`ERROR 5 for a payload of type ${type}`);
  } else if (error.errorCode !== ErrorCode.ProtocolError) {
    fail(`decodeMessage refused with ERROR ${error.errorCode}; only 3 and 5 are possible`);
  }
}

function checkDecoded(message: Message, payload: Uint8Array): void {
  // Byte fields are views into the payload (documented: no copy), so never past its end.
  for (const field of BYTE_FIELDS) {
    const value = (message as unknown as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (!(value instanceof Uint8Array) || value.buffer !== payload.buffer) fail(`the ${field} field is not a view into the payload`);
    const end = value.byteOffset + value.byteLength;
    if (value.byteOffset < payload.byteOffset || end > payload.byteOffset + payload.byteLength)
      fail(`the ${field} field reaches outside the payload`);
  }
  let again: Message;
  try {
    again = decodeMessage(encodeMessage(message));
  } catch (error) {
    fail(`a decoded ${messageTypeName(message.type)} does not survive encode and decode: ${describe(error)}`);
  }
  if (!sameMessage(again, message)) fail(`a decoded ${messageTypeName(message.type)} changed in an encode/decode round trip`);
  // What the server and the client do next with a decoded message must not throw either.
  if (typeof messageTypeName(message.type) !== 'string') fail('messageTypeName returned no name');
  if (checkHello(message, { token: 'fuzz-token' }).ok && message.type !== MessageType.Hello)
    fail('checkHello accepted a message that is not HELLO');
  checkWelcome(message, { document: 'temp' });
  if (message.type === MessageType.Error) {
    const text = describeServerError(message);
    if (CONTROL_CHARACTERS.test(text)) fail(`describeServerError lets control characters reach the terminal: ${JSON.stringify(text)}`);
    if (text.length > 500) fail(`describeServerError returned ${text.length} characters`);
  }
}

function check(input: MessageDecoderInput): void {
  const payload = payloadOf(input);
  let message: Message;
  try {
    message = decodeMessage(payload);
  } catch (error) {
    checkRefusal(error, payload);
    if (input.kind === 'message' && !input.mutations.length) {
      fail(`a valid ${messageTypeName(input.message.type)} was refused: ${describe(error)}`);
    }
    return;
  }
  checkDecoded(message, payload);
  // A valid message, with or without bytes appended (room for version 2), decodes to itself;
  // AUTH keeps everything after its type as its body, so appended bytes belong to it.
  if (input.kind === 'message' && !input.mutations.length && (input.message.type !== MessageType.Auth || !input.extra.length)) {
    if (!sameMessage(message, input.message)) fail(`a valid ${messageTypeName(input.message.type)} decoded to something else`);
  }
}

const uintArb = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1), fc.maxSafeNat());
const stringArb = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', 'temp', '.hidden', '../etc/passwd', 'a'.repeat(65), '\u001b[31mred', '\uFEFFbom'),
);
const documentNameArb = fc.oneof(fc.constantFrom('temp', 'notes.v2', 'A-b_c.9', 'x'), stringArb);

/** SYNC payloads carrying what real clients send: updates, diffs, merged updates, state vectors. */
const syncArb: fc.Arbitrary<Message> = fc
  .tuple(editSessionArb(3), fc.nat(), fc.constantFrom(SyncType.Step1, SyncType.Step2, SyncType.Update))
  .map(([session, pick, syncType]) => {
    const { doc, updates, stateVectors } = replayEdits(session);
    let data: Uint8Array;
    if (syncType === SyncType.Step1) data = stateVectors[pick % stateVectors.length];
    else if (syncType === SyncType.Step2) data = Y.encodeStateAsUpdate(doc, stateVectors[pick % stateVectors.length]);
    else data = updates.length ? (pick % 3 === 0 ? Y.mergeUpdates(updates) : updates[pick % updates.length]) : new Uint8Array([0, 0]);
    return { type: MessageType.Sync, syncType, data } as Message;
  });

const awarenessArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      fc.option(fc.record({ user: fc.record({ name: fc.string({ maxLength: 8 }) }) }), { nil: null }),
    )
    .map(([clientId, state]) => {
      const doc = newDoc();
      doc.clientID = clientId;
      return { type: MessageType.Awareness, update: realAwarenessUpdate(doc, state) } as Message;
    }),
  fc
    .array(awarenessEntryArb, { maxLength: 3 })
    .map((entries): Message => ({ type: MessageType.Awareness, update: encodeAwarenessEntries(entries) })),
);

/** Arbitrary valid message of any type, with realistic SYNC and AWARENESS bodies. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  { weight: 3, arbitrary: syncArb },
  { weight: 2, arbitrary: awarenessArb },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(MessageType.Auth as const), body: fc.uint8Array({ maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.constant({ type: MessageType.QueryAwareness as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant(MessageType.Hello as const),
      version: fc.oneof(fc.constant(1), uintArb),
      document: documentNameArb,
      clientName: stringArb,
      token: fc.oneof(fc.constant('fuzz-token'), stringArb),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(MessageType.Welcome as const),
      version: fc.oneof(fc.constant(1), uintArb),
      server: stringArb,
      document: documentNameArb,
      maxFrameBytes: uintArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(MessageType.Error as const),
      code: fc.oneof(fc.integer({ min: 1, max: 11 }), uintArb),
      message: stringArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(MessageType.Ack as const), count: uintArb }) },
  { weight: 1, arbitrary: fc.constant({ type: MessageType.Ping as const }) },
  { weight: 1, arbitrary: fc.constant({ type: MessageType.Pong as const }) },
  { weight: 1, arbitrary: fc.constant({ type: MessageType.Flush as const }) },
  { weight: 1, arbitrary: fc.constant({ type: MessageType.Flushed as const }) },
);

/** Arbitrary input of the message decoder target. */
export const messageDecoderInputArb: fc.Arbitrary<MessageDecoderInput> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 48 }) }) },
  {
    // Pure noise rarely starts with a known type byte; these do, so the bodies get exercised.
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...TYPE_NUMBERS), fc.uint8Array({ maxLength: 48 }))
      .map(([type, body]) => ({ kind: 'random' as const, bytes: Uint8Array.of(type, ...body) })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('message' as const),
      message: messageArb,
      mutations: fc.constant([] as Mutation[]),
      extra: fc.oneof(
        { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }) },
      ),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('message' as const),
      message: messageArb,
      mutations: mutationsArb(4),
      extra: fc.constant(new Uint8Array(0)),
    }),
  },
);

/** Checks one input of the message decoder target; throws when a property does not hold. */
export function checkMessageDecoderInput(input: MessageDecoderInput): void {
  check(input);
}

/** decodeMessage: a Message that round-trips, or a well-formed ProtocolError; valid messages decode to themselves. */
export const messageDecoderTarget: FuzzTarget<MessageDecoderInput> = {
  name: 'message-decoder',
  summary: 'random and mutated payloads of every type (real Yjs and awareness updates): a stable Message or a ProtocolError',
  input: messageDecoderInputArb,
  open: async () => ({ async: false, check, close: async () => undefined }),
};
