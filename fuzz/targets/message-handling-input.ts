// The inputs of the message handling targets (message-handling.ts): what one client connection
// sends, how it is turned into bytes, the arbitraries that make it, and the server settings of
// each run.
import fc from 'fast-check';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { resolveCoreSettings, type CoreSettings } from '@collab/collab-core';
import { MessageType, SyncType, encodeMessage, makeHello, type Message } from '@collab/collab-protocol';
import { FRAME_HEADER_BYTES } from '@collab/framing';
import { mutateBytes, mutationsArb, type Mutation } from '../support/byte-mutation';
import { foreignSpecArb, foreignUpdate, type ForeignSpec } from '../support/foreign-updates';
import { encodePresenceEntries, presenceEntryArb, type PresenceEntry, type PresenceId } from '../support/presence-samples';
import { editSessionArb, newDoc, replayEdits, textOpArb, type DocOp, type EditResult, type EditSession } from '../support/yjs-samples';
import { messageArb } from './message-decoder';

/** The document the observer and the editor share; valid HELLOs ask for it. */
export const FUZZ_DOCUMENT = 'fuzz-doc';
/** The token the fuzz server requires. */
export const FUZZ_TOKEN = 'fuzz-token';
/** Documents held open by a client of their own for a whole epoch, filling the server's slots (see MessageHandlingChecker). */
export const SITTER_DOCUMENTS = ['other', 'fuzz-doc.2'] as const;
/** Names other HELLOs ask for: the sitters' documents, and some that take a free slot, if any. */
const OTHER_DOCUMENTS = [...SITTER_DOCUMENTS, 'FUZZ-DOC', 'a', '_', 'x'.repeat(64)];

/** How the connection starts. */
export type HelloSpec =
  | { readonly kind: 'valid'; readonly clientName: string }
  /** A valid HELLO whose client name makes its frame maxHelloBytes + `excess` bytes long (refused with ERROR 4 past the limit). */
  | { readonly kind: 'long-name'; readonly excess: number }
  | { readonly kind: 'other-document'; readonly document: string }
  | { readonly kind: 'fields'; readonly version: number; readonly document: string; readonly token: string }
  | { readonly kind: 'mutated'; readonly mutations: readonly Mutation[] }
  /** A frame header announcing maxHelloBytes + `excess` bytes (at most 2^32 - 1), then a little of the body. */
  | { readonly kind: 'huge-header'; readonly excess: number; readonly body: Uint8Array }
  | { readonly kind: 'none' };

/** A frame a client could send, built from the input's edits; the oracle decides whether the server must take it. */
export type ValidStep =
  | {
      readonly kind: 'change';
      readonly syncType: SyncType.Step2 | SyncType.Update;
      readonly source: 'transaction' | 'diff' | 'merged' | 'full';
      readonly pick: number;
    }
  | { readonly kind: 'step1'; readonly pick: number }
  | { readonly kind: 'awareness'; readonly state: Record<string, unknown> | null }
  | { readonly kind: 'awareness-entries'; readonly entries: readonly PresenceEntry[] }
  /** An update that changes more than the text (another type, a key, JSON, deep Any...). */
  | { readonly kind: 'foreign'; readonly syncType: SyncType.Step2 | SyncType.Update; readonly spec: ForeignSpec }
  | { readonly kind: 'query-awareness' }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'flush' };

/** A frame after the HELLO: as a client builds it, or with its Yjs bytes or its payload mutated, or anything at all. */
export type Step =
  | ValidStep
  | { readonly kind: 'mutated-data'; readonly step: ValidStep; readonly mutations: readonly Mutation[] }
  | { readonly kind: 'mutated-payload'; readonly step: ValidStep; readonly mutations: readonly Mutation[] }
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

/** One client connection's worth of input. */
export interface MessageHandlingInput {
  readonly hello: HelloSpec;
  /** The client's edits: its updates, diffs and state vectors come from replaying them. */
  readonly edits: EditSession;
  /** Whether the client's doc starts as a copy of the server's (so its deletes hit shared text). */
  readonly startFromServer: boolean;
  readonly steps: readonly Step[];
  /** Mutations of the whole framed byte stream (frame headers included). */
  readonly streamMutations: readonly Mutation[];
  readonly cuts: readonly number[];
  /** Chunk indexes after which the client pauses (the server's promises run). */
  readonly pauses: readonly number[];
  /** An edit by the editor client while the input arrives (after chunk `afterChunk`), so relays cross. */
  readonly editorEdit: { readonly afterChunk: number; readonly ops: readonly DocOp[] } | null;
  /** The client closes right after this chunk, without waiting for answers (its document may still be loading). */
  readonly leaveAfterChunk: number | null;
}

/** Whether a client built every frame as a client library would (no mutations, no random bytes); the oracle says whether the server may refuse them. */
export function isGeneratedValid(input: MessageHandlingInput): boolean {
  const built = (step: Step) =>
    step.kind !== 'mutated-data' && step.kind !== 'mutated-payload' && step.kind !== 'message' && step.kind !== 'raw';
  return (input.hello.kind === 'valid' || input.hello.kind === 'long-name') && !input.streamMutations.length && input.steps.every(built);
}

/** Who the input's stream refers to: the server's limits, and the presence ids other clients hold. */
export interface StreamContext {
  readonly settings: CoreSettings;
  /** The Yjs client id (and presence id) the input's edits are made as. */
  readonly clientId: number;
  readonly observerId: number;
  readonly editorId: number;
  /** The server's document now, for inputs that start from it. */
  serverState(): Uint8Array;
}

/** The length of a HELLO frame with this client name. */
function helloFrameBytes(clientName: string): number {
  return FRAME_HEADER_BYTES + encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName, token: FUZZ_TOKEN })).length;
}

/** The bytes the input starts with (a whole frame, or a header and part of a body), if any. */
function helloBytes(hello: HelloSpec, settings: CoreSettings): Uint8Array | undefined {
  switch (hello.kind) {
    case 'valid':
      return frame(encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName: hello.clientName, token: FUZZ_TOKEN })));
    case 'long-name': {
      // Each 'n' is one byte, but the name's length prefix grows at 128 and 16384: fit it exactly.
      const target = settings.maxHelloBytes + hello.excess;
      let name = 'n'.repeat(Math.max(0, target - helloFrameBytes('')));
      while (name.length > 0 && helloFrameBytes(name) > target) name = name.slice(1);
      return frame(encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName: name, token: FUZZ_TOKEN })));
    }
    case 'other-document':
      return frame(encodeMessage(makeHello({ document: hello.document, clientName: 'other', token: FUZZ_TOKEN })));
    case 'fields':
      return frame(
        encodeMessage({
          type: MessageType.Hello,
          version: hello.version,
          document: hello.document,
          clientName: 'fields',
          token: hello.token,
        }),
      );
    case 'mutated':
      return frame(
        mutateBytes(encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName: 'mutant', token: FUZZ_TOKEN })), hello.mutations),
      );
    case 'huge-header': {
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32BE(Math.min(2 ** 32 - 1, settings.maxHelloBytes + hello.excess), 0);
      return Buffer.concat([header, hello.body]);
    }
    case 'none':
      return undefined;
  }
}

function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length ? items[index % items.length] : undefined;
}

/** The message a client-built step stands for, given the client's replayed edits and its awareness. */
function validMessage(step: ValidStep, edits: EditResult, clientAwareness: () => Awareness, context: StreamContext): Message {
  switch (step.kind) {
    case 'change': {
      let data: Uint8Array;
      if (step.source === 'transaction') data = pick(edits.updates, step.pick) ?? Y.encodeStateAsUpdate(newDoc());
      else if (step.source === 'diff') data = Y.encodeStateAsUpdate(edits.doc, pick(edits.stateVectors, step.pick));
      else if (step.source === 'merged')
        data = edits.updates.length
          ? Y.mergeUpdates(edits.updates.slice(step.pick % edits.updates.length))
          : Y.encodeStateAsUpdate(edits.doc);
      else data = Y.encodeStateAsUpdate(edits.doc);
      return { type: MessageType.Sync, syncType: step.syncType, data };
    }
    case 'step1':
      return { type: MessageType.Sync, syncType: SyncType.Step1, data: pick(edits.stateVectors, step.pick)! };
    case 'awareness': {
      const awareness = clientAwareness();
      awareness.setLocalState(step.state);
      return { type: MessageType.Awareness, update: encodeAwarenessUpdate(awareness, [awareness.clientID]) };
    }
    case 'awareness-entries': {
      const idOf = (id: PresenceId) =>
        id === 'own' ? context.clientId : id === 'observer' ? context.observerId : id === 'editor' ? context.editorId : id;
      return { type: MessageType.Awareness, update: encodePresenceEntries(step.entries, idOf) };
    }
    case 'foreign':
      return { type: MessageType.Sync, syncType: step.syncType, data: foreignUpdate(step.spec, context.clientId) };
    case 'query-awareness':
      return { type: MessageType.QueryAwareness };
    case 'ping':
      return { type: MessageType.Ping };
    case 'pong':
      return { type: MessageType.Pong };
    case 'flush':
      return { type: MessageType.Flush };
  }
}

function stepPayload(step: Step, edits: EditResult, awareness: () => Awareness, context: StreamContext, genuine: Set<string>): Uint8Array {
  switch (step.kind) {
    case 'mutated-data': {
      const message = validMessage(step.step, edits, awareness, context);
      if (message.type === MessageType.Sync) return encodeMessage({ ...message, data: mutateBytes(message.data, step.mutations) });
      if (message.type === MessageType.Awareness) return encodeMessage({ ...message, update: mutateBytes(message.update, step.mutations) });
      return mutateBytes(encodeMessage(message), step.mutations);
    }
    case 'mutated-payload':
      return mutateBytes(encodeMessage(validMessage(step.step, edits, awareness, context)), step.mutations);
    case 'message':
      return encodeMessage(step.message);
    case 'raw':
      return step.bytes;
    default: {
      const message = validMessage(step, edits, awareness, context);
      if (message.type === MessageType.Sync && message.syncType !== SyncType.Step1) genuine.add(Buffer.from(message.data).toString('hex'));
      return encodeMessage(message);
    }
  }
}

/** A frame around any payload, the empty one included (the protocol forbids it; the server must say so). */
function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** An input's byte stream, and the Yjs updates in it that a well-behaved client could have sent. */
export interface BuiltStream {
  readonly stream: Buffer;
  /** Hex of every update built unmutated; the server storing any other one that changes its document is junk accepted. */
  readonly genuine: ReadonlySet<string>;
}

/** The byte stream of an input, its edits replayed as client `context.clientId`. */
export function buildStream(input: MessageHandlingInput, context: StreamContext): BuiltStream {
  const edits = replayEdits(input.edits, input.startFromServer ? context.serverState() : undefined, context.clientId);
  let awareness: Awareness | undefined;
  // Created on first use: an Awareness is costly (a timer, random ids), and most inputs need none.
  const clientAwareness = () => (awareness ??= new Awareness(edits.doc));
  const genuine = new Set<string>();
  try {
    const hello = helloBytes(input.hello, context.settings);
    const pieces = [
      ...(hello ? [hello] : []),
      ...input.steps.map((step) => frame(stepPayload(step, edits, clientAwareness, context, genuine))),
    ];
    const stream = Buffer.concat(pieces);
    return { stream: input.streamMutations.length ? Buffer.from(mutateBytes(stream, input.streamMutations)) : stream, genuine };
  } finally {
    awareness?.destroy();
    edits.doc.destroy();
  }
}

const stateArb = fc.option(
  fc.record({ user: fc.record({ name: fc.string({ maxLength: 8 }), color: fc.constantFrom('#30bced', '#ee6352') }) }),
  { nil: null, freq: 5 },
);

function validStepArb(settings: CoreSettings): fc.Arbitrary<ValidStep> {
  const limits = { maxStateBytes: settings.maxPresenceBytes, maxDepth: settings.maxPresenceDepth };
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('change' as const),
        syncType: fc.constantFrom(SyncType.Update as const, SyncType.Step2 as const),
        source: fc.constantFrom('transaction' as const, 'transaction' as const, 'diff' as const, 'merged' as const, 'full' as const),
        pick: fc.nat(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('step1' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('awareness' as const), state: stateArb }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('awareness-entries' as const),
        // A few entries, or more than a connection may hold ids.
        entries: fc.oneof(
          { weight: 4, arbitrary: fc.array(presenceEntryArb(limits), { maxLength: 3 }) },
          {
            weight: 1,
            arbitrary: fc.array(presenceEntryArb(limits), {
              minLength: settings.maxPresenceIdsPerClient,
              maxLength: settings.maxPresenceIdsPerClient + 3,
            }),
          },
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('foreign' as const),
        syncType: fc.constantFrom(SyncType.Update as const, SyncType.Step2 as const),
        spec: foreignSpecArb,
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'query-awareness' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'ping' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'pong' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  );
}

function stepArb(settings: CoreSettings): fc.Arbitrary<Step> {
  const valid = validStepArb(settings);
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutated-data' as const), step: valid, mutations: mutationsArb(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('mutated-payload' as const), step: valid, mutations: mutationsArb(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('message' as const), message: messageArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 24 }) }) },
  );
}

const helloArb: fc.Arbitrary<HelloSpec> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ kind: fc.constant('valid' as const), clientName: fc.string({ maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('long-name' as const), excess: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('other-document' as const), document: fc.constantFrom(...OTHER_DOCUMENTS) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fields' as const),
      version: fc.oneof(fc.constant(1), fc.nat({ max: 3 }), fc.maxSafeNat()),
      document: fc.oneof(
        fc.constant(FUZZ_DOCUMENT),
        fc.string({ maxLength: 70 }),
        fc.constantFrom('.fuzz', '../fuzz-doc', 'fuzz/doc', 'x'.repeat(65), ''),
      ),
      token: fc.oneof(fc.constant(FUZZ_TOKEN), fc.string({ maxLength: 12 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutations: mutationsArb(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge-header' as const),
      excess: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constantFrom(64 * 1024, 16 * 1024 * 1024, 2 ** 32)),
      body: fc.uint8Array({ maxLength: 16 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** Arbitrary input for a server with these settings; `opArb` makes the client's edits (mixed with plain text edits). */
export function inputArb(settings: CoreSettings, opArb: fc.Arbitrary<DocOp>): fc.Arbitrary<MessageHandlingInput> {
  return fc.record({
    hello: helloArb,
    // Mostly what a plain-text editor sends; sometimes other types too, which the server refuses.
    edits: fc.oneof(
      { weight: 4, arbitrary: editSessionArb(4, fc.oneof({ weight: 4, arbitrary: textOpArb }, { weight: 1, arbitrary: opArb })) },
      { weight: 1, arbitrary: editSessionArb(4, opArb) },
    ),
    startFromServer: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    steps: fc.array(stepArb(settings), { maxLength: 8 }),
    streamMutations: fc.oneof({ weight: 9, arbitrary: fc.constant([] as Mutation[]) }, { weight: 1, arbitrary: mutationsArb(3) }),
    cuts: fc.array(fc.nat(), { maxLength: 8 }),
    pauses: fc.array(fc.nat({ max: 8 }), { maxLength: 4 }),
    editorEdit: fc.option(fc.record({ afterChunk: fc.nat({ max: 8 }), ops: fc.array(textOpArb, { minLength: 1, maxLength: 3 }) }), {
      freq: 4,
    }),
    leaveAfterChunk: fc.oneof({ weight: 11, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) }),
  });
}

/** How one run of the target is set up. */
export interface HandlingProfile {
  readonly settings: CoreSettings;
  readonly storage: 'files' | 'memory';
  /** Log size past which documents compact (files). */
  readonly compactBytes?: number;
  /** A whole new client syncs after every this many inputs. */
  readonly freshClientEvery: number;
}

// Throttling pauses reading for real time; a fuzz run cannot wait, so it never triggers. Nor
// do the handshake and idle timeouts. Every input comes from an address of its own, so wrong
// tokens are never slowed down (the back-off is for real time too).
const COMMON_SETTINGS: Partial<CoreSettings> = {
  // Relays at the end of each turn: settle() waits for turns of the loop, not for timers.
  relayIntervalMs: 0,
  serverName: 'collab-server fuzz',
  token: FUZZ_TOKEN,
  maxClients: 1_000,
  handshakeTimeoutMs: 600_000,
  idleTimeoutMs: 0,
  maxEditsPerSecond: 1_000_000_000,
  maxBytesPerSecond: 1_000_000_000_000,
  maxDocuments: 1 + SITTER_DOCUMENTS.length,
  // A document another client left is unloaded at once, so its slot is free for the next input.
  unloadAfterMs: 0,
};

/** The main run: the server's defaults but for smaller frames and documents, so those limits are reached. */
export const MAIN_PROFILE: HandlingProfile = {
  settings: resolveCoreSettings({ ...COMMON_SETTINGS, maxFrameBytes: 64 * 1024, maxDocumentChars: 2_000 }),
  storage: 'files',
  compactBytes: 16 * 1024,
  freshClientEvery: 32,
};

/** The small-frame run: frames of 1 KiB and long pastes, so documents outgrow a frame many times over. */
export const SMALL_FRAMES_PROFILE: HandlingProfile = {
  settings: resolveCoreSettings({
    ...COMMON_SETTINGS,
    maxFrameBytes: 1024,
    maxHelloBytes: 256,
    maxPresenceBytes: 512,
    maxDocumentChars: 12_000,
  }),
  storage: 'memory',
  freshClientEvery: 8,
};
