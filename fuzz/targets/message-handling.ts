// Fuzz target 3: the collab server's message handling. Each input is one client connection:
// a HELLO (valid, wrong or mutated), then SYNC, AWARENESS and other frames built from a real
// Y.Doc's edits (genuine updates, diffs, state vectors and awareness updates), some mutated at
// the Yjs level or the frame level, all in random chunkings with random pauses. It runs against
// real ClientConnections and SharedDocuments over a real DocumentStore (in-process-server.ts),
// with two well-behaved clients connected to the same document the whole time: an editor
// whose edits cross the input, and an observer that only listens.
//
// Properties: nothing escapes the handlers (a real server would crash); the server answers
// (WELCOME, PONG per PING, step 2 per step 1, ACK of every change) or sends one ERROR, last,
// and closes; valid input is never refused (except ERROR 10 at the size limit); every change
// in memory was handed to the store; the observer and a fresh client end up with exactly the
// server's document; no connection, peer or presence outlives its client.
import fc from 'fast-check';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import {
  ErrorCode,
  MessageType,
  ProtocolError,
  SyncType,
  checkHello,
  decodeMessage,
  encodeMessage,
  makeHello,
  messageTypeName,
  type Message,
} from '@collab/collab-protocol';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import type { ConnectionSettings } from '../../apps/collab-server/src/client-connection';
import { mutateBytes, mutationsArb, splitAt, type Mutation } from '../support/byte-mutation';
import { FakeSocket } from '../support/fake-socket';
import { fail, type FuzzChecker, type FuzzTarget } from '../support/fuzz-target';
import { InProcessServer, documentText, sameContent, type CleanClient } from '../support/in-process-server';
import {
  applyDocOp,
  awarenessEntryArb,
  docOpArb,
  editSessionArb,
  encodeAwarenessEntries,
  replayEdits,
  type AwarenessEntry,
  type DocOp,
  type EditResult,
  type EditSession,
  newDoc,
} from '../support/yjs-samples';
import { MESSAGE_HANDLING_KNOWN_ISSUES } from '../known-issues';
import { messageArb } from './message-decoder';

/** The document the observer watches; valid HELLOs ask for it. */
export const FUZZ_DOCUMENT = 'fuzz-doc';
/** The token the in-process server requires. */
export const FUZZ_TOKEN = 'fuzz-token';

/** The server's limits; CollabServer's defaults, except smaller frames and documents so those limits are reached. */
export const FUZZ_SETTINGS: ConnectionSettings = {
  serverName: 'collab-server fuzz',
  maxFrameBytes: 64 * 1024,
  handshakeTimeoutMs: 600_000,
  idleTimeoutMs: 0,
  maxSendBufferBytes: 64 * 1024 * 1024,
  token: FUZZ_TOKEN,
  // Throttling pauses reading for real time; a fuzz run cannot wait, so it never triggers.
  maxEditsPerSecond: 1_000_000_000,
  maxBytesPerSecond: 1_000_000_000,
  maxDocumentChars: 2_000,
};

const MAX_DOCUMENTS = 6;
/**
 * Known issues after which the server's documents are intact (a client's handler threw, or a
 * presence was left behind), so recover() only cleans up instead of starting a new server.
 */
const LIGHT_RECOVERY = new Set<string>();

/** Inputs sharing one data directory and observer before both are replaced. */
const EPOCH_INPUTS = 100;
/**
 * Documents are compared in full (state vector and delete set, Y.snapshot) after every this
 * many inputs, and by text and state vector after the others: snapshots cost as much as the
 * rest of a run. A difference only the full comparison sees then shows up a few inputs late.
 */
const FULL_COMPARE_EVERY = 4;
const EMPTY_STATE_VECTOR = Uint8Array.of(0);
/** A whole new client session syncs after every this many inputs (and the step 2 is checked after each). */
const FRESH_CLIENT_EVERY = 32;

/** How the connection starts. */
export type HelloSpec =
  | { readonly kind: 'valid'; readonly clientName: string }
  | { readonly kind: 'other-document'; readonly document: string }
  | { readonly kind: 'fields'; readonly version: number; readonly document: string; readonly token: string }
  | { readonly kind: 'mutated'; readonly mutations: readonly Mutation[] }
  | { readonly kind: 'none' };

/** A frame a well-behaved client could send, built from the input's edits. */
export type ValidStep =
  | { readonly kind: 'change'; readonly syncType: SyncType.Step2 | SyncType.Update; readonly source: 'transaction' | 'diff' | 'merged' | 'full'; readonly pick: number }
  | { readonly kind: 'step1'; readonly pick: number }
  | { readonly kind: 'awareness'; readonly state: Record<string, unknown> | null }
  | { readonly kind: 'awareness-entries'; readonly entries: readonly AwarenessEntry[] }
  | { readonly kind: 'query-awareness' }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' };

/** A frame after the HELLO: valid, or valid with its Yjs bytes or its payload mutated, or anything at all. */
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
  /** Whether the client's doc starts as a copy of the server's (so its deletes and formats hit shared text). */
  readonly startFromServer: boolean;
  readonly steps: readonly Step[];
  /** Mutations of the whole framed byte stream (frame headers included). */
  readonly streamMutations: readonly Mutation[];
  readonly cuts: readonly number[];
  /** Chunk indexes after which the client pauses (the server's promises run). */
  readonly pauses: readonly number[];
  /** An edit by the editor client while the input arrives (after chunk `afterChunk`), so relays cross. */
  readonly editorEdit: { readonly afterChunk: number; readonly ops: readonly DocOp[] } | null;
}

function isValidStep(step: Step): step is ValidStep {
  return step.kind !== 'mutated-data' && step.kind !== 'mutated-payload' && step.kind !== 'message' && step.kind !== 'raw';
}

/** Whether a well-behaved client could have sent exactly this: then no ERROR but 10 is acceptable. */
export function isValidInput(input: MessageHandlingInput): boolean {
  return input.hello.kind === 'valid' && !input.streamMutations.length && input.steps.every(isValidStep);
}

function helloPayload(hello: HelloSpec): Uint8Array | undefined {
  switch (hello.kind) {
    case 'valid':
      return encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName: hello.clientName, token: FUZZ_TOKEN }));
    case 'other-document':
      return encodeMessage(makeHello({ document: hello.document, clientName: 'other', token: FUZZ_TOKEN }));
    case 'fields':
      return encodeMessage({ type: MessageType.Hello, version: hello.version, document: hello.document, clientName: 'fields', token: hello.token });
    case 'mutated':
      return mutateBytes(encodeMessage(makeHello({ document: FUZZ_DOCUMENT, clientName: 'mutant', token: FUZZ_TOKEN })), hello.mutations);
    case 'none':
      return undefined;
  }
}

function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length ? items[index % items.length] : undefined;
}

/** The message a valid step stands for, given the client's replayed edits and its awareness. */
function validMessage(step: ValidStep, edits: EditResult, clientAwareness: () => Awareness): Message {
  switch (step.kind) {
    case 'change': {
      let data: Uint8Array;
      if (step.source === 'transaction') data = pick(edits.updates, step.pick) ?? Y.encodeStateAsUpdate(newDoc());
      else if (step.source === 'diff') data = Y.encodeStateAsUpdate(edits.doc, pick(edits.stateVectors, step.pick));
      else if (step.source === 'merged') data = edits.updates.length ? Y.mergeUpdates(edits.updates.slice(step.pick % edits.updates.length)) : Y.encodeStateAsUpdate(edits.doc);
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
    case 'awareness-entries':
      return { type: MessageType.Awareness, update: encodeAwarenessEntries(step.entries) };
    case 'query-awareness':
      return { type: MessageType.QueryAwareness };
    case 'ping':
      return { type: MessageType.Ping };
    case 'pong':
      return { type: MessageType.Pong };
  }
}

function stepPayload(step: Step, edits: EditResult, awareness: () => Awareness, genuine: Set<string>): Uint8Array {
  switch (step.kind) {
    case 'mutated-data': {
      const message = validMessage(step.step, edits, awareness);
      if (message.type === MessageType.Sync) return encodeMessage({ ...message, data: mutateBytes(message.data, step.mutations) });
      if (message.type === MessageType.Awareness) return encodeMessage({ ...message, update: mutateBytes(message.update, step.mutations) });
      return mutateBytes(encodeMessage(message), step.mutations);
    }
    case 'mutated-payload':
      return mutateBytes(encodeMessage(validMessage(step.step, edits, awareness)), step.mutations);
    case 'message':
      return encodeMessage(step.message);
    case 'raw':
      return step.bytes;
    default: {
      const message = validMessage(step, edits, awareness);
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
  /** Hex of every genuine update (unmutated); the server accepting any other one is junk accepted. */
  readonly genuine: ReadonlySet<string>;
}

/**
 * The byte stream of an input: its edits replayed by client `clientId` (the input's own unless
 * the caller must avoid a clash), on a copy of `serverState()` when the input starts from it.
 */
export function buildStream(input: MessageHandlingInput, serverState: () => Uint8Array, clientId = input.edits.clientId): BuiltStream {
  const edits = replayEdits(input.edits, input.startFromServer ? serverState() : undefined, clientId);
  let awareness: Awareness | undefined;
  // Created on first use: an Awareness is costly (a timer, random ids), and most inputs need none.
  const clientAwareness = () => (awareness ??= new Awareness(edits.doc));
  const genuine = new Set<string>();
  try {
    const hello = helloPayload(input.hello);
    const payloads = [...(hello ? [hello] : []), ...input.steps.map((step) => stepPayload(step, edits, clientAwareness, genuine))];
    const stream = Buffer.concat(payloads.map(frame));
    return { stream: input.streamMutations.length ? Buffer.from(mutateBytes(stream, input.streamMutations)) : stream, genuine };
  } finally {
    awareness?.destroy();
    edits.doc.destroy();
  }
}



/** What the server must answer, worked out from the stream alone with the protocol library. */
interface Expected {
  first: { kind: 'nothing' } | { kind: 'error'; codes: number[]; why: string } | { kind: 'welcome'; document: string };
  /** After the HELLO, up to the first frame the server must refuse. */
  pings: number;
  step1s: number;
  queries: number;
  changes: number;
  /** A frame after the HELLO the server must refuse (bad frame, undecodable, or not a client's message), with the possible codes. */
  refusal: { why: string; codes: number[] } | undefined;
}

function framingCode(error: Error): number {
  return error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError;
}

function expectedAnswers(stream: Buffer, server: InProcessServer): Expected {
  const payloads: Buffer[] = [];
  let framing: Error | undefined;
  try {
    new FrameDecoder({ maxFrameBytes: FUZZ_SETTINGS.maxFrameBytes }).decode(stream, (p) => payloads.push(p));
  } catch (error) {
    framing = error as Error;
  }
  const expected: Expected = { first: { kind: 'nothing' }, pings: 0, step1s: 0, queries: 0, changes: 0, refusal: undefined };
  if (!payloads.length) {
    if (framing) expected.first = { kind: 'error', codes: [framingCode(framing)], why: framing.message };
    return expected;
  }
  let hello: Message;
  try {
    hello = decodeMessage(payloads[0]);
  } catch (error) {
    expected.first = { kind: 'error', codes: [(error as ProtocolError).errorCode], why: (error as Error).message };
    return expected;
  }
  const decision = checkHello(hello, { token: FUZZ_TOKEN });
  if (!decision.ok) {
    expected.first = { kind: 'error', codes: [decision.code], why: decision.message };
    return expected;
  }
  if (server.refusesDocument(decision.document)) {
    // The refusal waits for the (rejected) document promise; a frame that cannot be read, in
    // the same chunk, is refused before that.
    const codes: number[] = [ErrorCode.ServerFull];
    for (const payload of payloads.slice(1)) {
      try {
        decodeMessage(payload);
      } catch (error) {
        codes.push((error as ProtocolError).errorCode);
        break;
      }
    }
    if (framing) codes.push(framingCode(framing));
    expected.first = { kind: 'error', codes, why: 'too many documents' };
    return expected;
  }
  expected.first = { kind: 'welcome', document: decision.document };
  // A frame that cannot be read is refused as it arrives; a readable message a client may not
  // send is refused when its turn comes, which is later while the document loads. So a bad
  // frame after a bad message may be the one refused.
  const refuse = (why: string, code: number) => {
    expected.refusal = { why: expected.refusal?.why ?? why, codes: [...(expected.refusal?.codes ?? []), code] };
  };
  for (const payload of payloads.slice(1)) {
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      refuse((error as Error).message, (error as ProtocolError).errorCode);
      return expected;
    }
    if (expected.refusal) continue;
    if (message.type === MessageType.Sync) {
      if (message.syncType === SyncType.Step1) expected.step1s++;
      else expected.changes++;
    } else if (message.type === MessageType.Ping) expected.pings++;
    else if (message.type === MessageType.QueryAwareness) expected.queries++;
    else if (message.type !== MessageType.Pong && message.type !== MessageType.Awareness) {
      refuse(`a client sent ${messageTypeName(message.type)}`, ErrorCode.ProtocolError);
    }
  }
  if (framing) refuse(framing.message, framingCode(framing));
  return expected;
}

function readOutput(socket: FakeSocket): Message[] {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
  const messages: Message[] = [];
  try {
    for (const payload of decoder.write(Buffer.concat(socket.written))) messages.push(decodeMessage(payload));
  } catch (error) {
    fail(`the server sent bytes its own protocol library cannot read: ${(error as Error).message}`);
  }
  if (!decoder.idle) fail('the server sent part of a frame');
  const serverTypes = [MessageType.Welcome, MessageType.Sync, MessageType.Awareness, MessageType.Error, MessageType.Ack, MessageType.Pong];
  for (const m of messages) if (!serverTypes.includes(m.type)) fail(`the server sent ${messageTypeName(m.type)}`);
  return messages;
}

function describeMessages(messages: readonly Message[]): string {
  return messages
    .map((m) => (m.type === MessageType.Error ? `ERROR ${m.code} (${m.message})` : m.type === MessageType.Sync ? `SYNC ${m.syncType}` : messageTypeName(m.type)))
    .join(', ');
}

/**
 * Whether, applied in order to the server's document as it was, one of the changes in a valid
 * stream needs changes the server lacked (Yjs would keep it aside): the server refuses that with ERROR 3.
 */
function needsMissingChanges(stateBefore: Uint8Array, stream: Uint8Array): boolean {
  const doc = newDoc();
  try {
    Y.applyUpdate(doc, stateBefore);
    for (const payload of new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT }).write(Buffer.from(stream)).slice(1)) {
      const message = decodeMessage(payload);
      if (message.type !== MessageType.Sync || message.syncType === SyncType.Step1) continue;
      Y.applyUpdate(doc, message.data);
      if (doc.store.pendingStructs || doc.store.pendingDs) return true;
    }
    return false;
  } finally {
    doc.destroy();
  }
}

const MISSING_CHANGES = 'depends on changes the server does not have';

function checkAnswers(expected: Expected, messages: Message[], socket: FakeSocket, valid: boolean, needsMissing: () => boolean): void {
  const closed = socket.ended || socket.destroyed;
  const said = () => `the server said: ${describeMessages(messages) || 'nothing'}`;
  if (socket.writesAfterClose) fail(`the server wrote ${socket.writesAfterClose} times after closing the connection; ${said()}`);
  if (expected.first.kind === 'nothing') {
    if (messages.length || closed) fail(`the server answered before a whole first frame arrived; ${said()}`);
    return;
  }
  const errorAt = messages.findIndex((m) => m.type === MessageType.Error);
  const error = errorAt < 0 ? undefined : (messages[errorAt] as Extract<Message, { type: MessageType.Error }>);
  if (error && errorAt !== messages.length - 1) fail(`the server sent frames after its ERROR; ${said()}`);
  if (error && !closed) fail(`the server sent ERROR ${error.code} but kept the connection open`);
  if (!error && closed) fail(`the server closed the connection without an ERROR; ${said()}`);
  if (expected.first.kind === 'error') {
    if (messages.length !== 1 || !error || !expected.first.codes.includes(error.code)) {
      fail(`the first frame must get ERROR ${expected.first.codes.join(' or ')} (${expected.first.why}); ${said()}`);
    }
    return;
  }
  const { refusal } = expected;
  if (messages.length === 1 && error) {
    // A frame that cannot be read is refused at once, even while the document is still loading.
    if (!refusal || !refusal.codes.includes(error.code)) fail(`a good HELLO got ERROR ${error.code} (${error.message}) before its WELCOME`);
    return;
  }
  const welcome = messages[0];
  if (welcome?.type !== MessageType.Welcome || welcome.document !== expected.first.document || welcome.version !== 1 || welcome.maxFrameBytes !== FUZZ_SETTINGS.maxFrameBytes) {
    fail(`a good HELLO must get WELCOME for ${expected.first.document} first; ${said()}`);
  }
  const join = messages[1];
  if (join?.type !== MessageType.Sync || join.syncType !== SyncType.Step1) fail(`WELCOME must be followed by the server's sync step 1; ${said()}`);
  const count = (predicate: (m: Message) => boolean) => messages.filter(predicate).length;
  const pongs = count((m) => m.type === MessageType.Pong);
  const step2s = count((m) => m.type === MessageType.Sync && m.syncType === SyncType.Step2);
  const awarenesses = count((m) => m.type === MessageType.Awareness);
  const acks = messages.flatMap((m) => (m.type === MessageType.Ack ? [m.count] : []));
  if (pongs > expected.pings || step2s > expected.step1s) fail(`more answers than questions: ${pongs} PONG for ${expected.pings} PING, ${step2s} step 2 for ${expected.step1s} step 1`);
  acks.forEach((n, i) => {
    if (n < 1 || n > expected.changes || (i > 0 && n <= acks[i - 1])) fail(`ACKs ${acks.join(', ')} for ${expected.changes} changes`);
  });
  if (error) {
    // Besides the refusal the stream calls for, an update or awareness update Yjs cannot read
    // (ERROR 3) or an edit past the size limit (ERROR 10) may end the conversation earlier.
    const allowed = [ErrorCode.ProtocolError, ErrorCode.DocumentTooLarge, ...(refusal?.codes ?? [])];
    if (!allowed.includes(error.code)) fail(`ERROR ${error.code} after WELCOME (${error.message}); only ${allowed.join(', ')} can happen here`);
    if (valid && error.code !== ErrorCode.DocumentTooLarge) {
      // A well-formed update that needs changes the server lacks is refused (see SharedDocument.applyChange).
      const missing = error.code === ErrorCode.ProtocolError && error.message.includes(MISSING_CHANGES);
      if (!missing) fail(`valid input was refused with ERROR ${error.code}: ${error.message}`);
      if (!needsMissing()) fail(`an update was refused for needing changes the server lacks, but it does not: ${error.message}`);
    }
    return;
  }
  if (valid && needsMissing()) fail('an update that needs changes the server lacks was not refused');
  if (refusal) fail(`the server went on after a frame it must refuse (${refusal.why}); ${said()}`);
  if (pongs !== expected.pings) fail(`${pongs} PONG for ${expected.pings} PING`);
  if (step2s !== expected.step1s) fail(`${step2s} sync step 2 for ${expected.step1s} step 1`);
  if (awarenesses < expected.queries) fail(`${awarenesses} AWARENESS for ${expected.queries} QUERY_AWARENESS`);
  if (expected.changes && acks[acks.length - 1] !== expected.changes) fail(`ACKs ${acks.join(', ') || 'none'} for ${expected.changes} changes`);
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/** Fuzz state shared by the inputs of one epoch: the server, its data directory, the observer. */
class MessageHandlingChecker implements FuzzChecker<MessageHandlingInput> {
  readonly async = true;
  private server: InProcessServer | undefined;
  /** Listens only, so its document must be exactly the server's. */
  private observer: CleanClient | undefined;
  /** Edits while inputs arrive; its own copy may differ (Yjs replaces a split surrogate pair locally), so only its connection is checked. */
  private editor: CleanClient | undefined;
  /** Inputs checked on the current server, oldest first. */
  private readonly checked: MessageHandlingInput[] = [];
  /** Whether the current server accepted an update no well-behaved client sent (see check()). */
  private junkAccepted = false;
  /** Inputs after which the peers' documents were not compared with the server's, for the stats. */
  private uncompared = 0;
  private servers = 0;
  /** The last awareness event of each client id on the current server, to explain a leftover presence. */
  private readonly presenceJournal = new Map<number, string>();
  /** The socket of the input being checked, and the updates in it a well-behaved client could send. */
  private client: FakeSocket | undefined;
  private genuine: ReadonlySet<string> = new Set();
  /** Yjs client ids the inputs on the current server have edited as. */
  private readonly usedIds = new Set<number>();

  async check(input: MessageHandlingInput): Promise<void> {
    const { server, observer, editor } = await this.epoch();
    this.checked.push(input);
    const primary = server.loadedDocuments.get(FUZZ_DOCUMENT)!;
    const { doc } = primary.shared;
    const { stream, genuine } = buildStream(input, () => Y.encodeStateAsUpdate(doc), this.clientIdFor(input, doc));
    for (const loaded of server.loadedDocuments.values()) loaded.changes.length = 0;
    const expected = expectedAnswers(stream, server);
    const stateBefore = Y.encodeStateAsUpdate(doc);
    const chunks = splitAt(stream, input.cuts);
    const { socket, connection } = server.connect();
    this.client = socket;
    this.genuine = genuine;
    // How the server's Awareness reported each presence this client set: SharedDocument
    // removes at leave what it saw announced, so a leftover says which path forgot it.
    const announced = new Map<number, 'added' | 'updated'>();
    const onPresence = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin !== connection) return;
      for (const id of added) announced.set(id, 'added');
      for (const id of removed) announced.delete(id);
      for (const id of updated) if (announced.get(id) !== 'added') announced.set(id, 'updated');
    };
    primary.shared.awareness.on('update', onPresence);
    for (let i = 0; i < chunks.length; i++) {
      server.feed(socket, chunks[i]);
      if (input.editorEdit && input.editorEdit.afterChunk % chunks.length === i) this.edit(input.editorEdit.ops, primary.shared.text.length);
      if (input.pauses.includes(i)) await new Promise((resolve) => setImmediate(resolve));
    }
    await server.settle();
    this.checkEscapes(server, 'while the input arrived');
    const answers = readOutput(socket);
    checkAnswers(expected, answers, socket, isValidInput(input), () => needsMissingChanges(stateBefore, stream));
    const refusal = answers.find((m) => m.type === MessageType.Error);

    socket.peerEnd();
    await server.settle();
    primary.shared.awareness.off('update', onPresence);
    this.checkEscapes(server, 'when the client closed');
    if (socket.writesAfterClose) fail(`the server wrote ${socket.writesAfterClose} times to a closed connection`);
    if (server.connections.size !== 2) fail(`${server.connections.size - 2} connections outlived their client`);
    // Junk Yjs accepted, even in part (a corrupt update that decodes, or fails half way), can make well-behaved peers
    // diverge from the server: Yjs keeps no promise there. From then on until a new server,
    // only the server's own properties are checked, not that every peer holds its document.
    for (const [name, loaded] of server.loadedDocuments) {
      for (const change of loaded.changes) {
        // Checked where it happens, so the failure names its cause (a comparison of the
        // documents may only see it inputs later).
        if (change.refused && change.touched && !change.appended) {
          fail(`${name}: an update refused with ERROR 3 changed the document anyway (its text or its pending structs), and nothing was stored`);
        }
        if (!change.refused && change.touched && !change.appended) {
          const how = change.pendingGrewInPlace ? 'grew its pending structs in place' : 'changed it';
          fail(`${name}: an update accepted (and acknowledged) ${how} but was not handed to the store`);
        }
      }
    }
    if (primary.changes.some((c) => c.peer === connection && (!c.refused || c.touched) && !genuine.has(c.update))) this.junkAccepted = true;
    await this.checkDocuments(server, observer, editor, {
      refusal: refusal?.type === MessageType.Error ? `ERROR ${refusal.code} (${refusal.message})` : 'no ERROR',
      announced,
    });
  }

  private readonly journal = ({ added, updated, removed }: Record<'added' | 'updated' | 'removed', number[]>, origin: unknown) => {
    const by = (origin as { label?: string } | null)?.label ?? String(origin);
    const note = (kind: string) => (id: number) => this.presenceJournal.set(id, `${kind} by ${by} in input ${this.checked.length}`);
    added.forEach(note('added'));
    updated.forEach(note('updated'));
    removed.forEach(note('removed'));
  };

  /**
   * The Yjs client id the input's edits are made as. Two clients sharing an id with different
   * histories break Yjs's convergence by design (ids must be unique): no finding about the
   * server. So an id used before on this server is replaced by a fresh one, unless the input
   * resumes that id's own history (starts from the server's state, which holds all of it).
   */
  private clientIdFor(input: MessageHandlingInput, doc: Y.Doc): number {
    const { clientId } = input.edits;
    const known = (id: number) => this.usedIds.has(id) || Y.getState(doc.store, id) > 0;
    const resumes = input.startFromServer && Y.getState(doc.store, clientId) > 0 && !doc.store.pendingStructs && !doc.store.pendingDs;
    let id = clientId;
    if (!resumes) for (let next = this.usedIds.size; known(id); next++) id = 0x8000_0000 + next;
    this.usedIds.add(id);
    return id;
  }

  async recover(knownIssue?: string): Promise<void> {
    const server = this.server;
    if (!server || !knownIssue || !LIGHT_RECOVERY.has(knownIssue)) return this.closeEpoch(false);
    // The documents are intact after these: close the client and forget its leftovers, which
    // is far cheaper than a new server (known issues come up in a few percent of runs). The
    // failed check stopped early, so what it did not get to is checked here, roughly: any
    // doubt, and a new server it is.
    this.client?.peerEnd();
    await server.settle();
    const primary = server.loadedDocuments.get(FUZZ_DOCUMENT)!;
    const keep = new Set([this.observer?.awareness.clientID, this.editor?.awareness.clientID]);
    const stray = [...primary.shared.awareness.getStates().keys()].filter((id) => !keep.has(id));
    if (stray.length) removeAwarenessStates(primary.shared.awareness, stray, 'fuzz cleanup');
    server.escapes.length = 0;
    await server.settle();
    const doubt =
      server.escapes.length > 0 ||
      server.connections.size !== 2 ||
      [...server.loadedDocuments.values()].some(
        (d) =>
          !sameContent(d.shared.doc, d.stored) ||
          d.changes.some((c) => c.touched && (c.refused || !c.appended || !this.genuine.has(c.update))),
      );
    if (doubt) await this.closeEpoch(false);
  }

  stats(): Record<string, number> {
    return { 'servers started': this.servers, 'inputs whose junk Yjs accepted (peers not compared)': this.uncompared };
  }

  history(): readonly MessageHandlingInput[] {
    return [...this.checked];
  }

  async close(): Promise<void> {
    await this.closeEpoch(true);
  }

  private async epoch(): Promise<{ server: InProcessServer; observer: CleanClient; editor: CleanClient }> {
    const text = this.server?.loadedDocuments.get(FUZZ_DOCUMENT)?.shared.text.length ?? 0;
    const full = this.checked.length >= EPOCH_INPUTS || text > FUZZ_SETTINGS.maxDocumentChars * 0.8;
    // A restart is checked at the end of a full epoch, not after junk (to keep runs cheap).
    if (this.server && (full || this.junkAccepted)) await this.closeEpoch(full);
    if (!this.server || !this.observer || !this.editor) {
      const server = await InProcessServer.start({ settings: FUZZ_SETTINGS, maxDocuments: MAX_DOCUMENTS, compactBytes: 16 * 1024 });
      this.servers++;
      this.server = server;
      this.observer = await server.connectClean(FUZZ_DOCUMENT, 'observer');
      this.presenceJournal.clear();
      server.loadedDocuments.get(FUZZ_DOCUMENT)!.shared.awareness.on('update', this.journal);
      this.editor = await server.connectClean(FUZZ_DOCUMENT, 'editor');
    }
    return { server: this.server, observer: this.observer, editor: this.editor };
  }

  /** Ends an epoch; when `verify`, a restart must load exactly what was appended. */
  private async closeEpoch(verify: boolean): Promise<void> {
    const { server, observer, editor } = this;
    const inputs = this.checked.splice(0).length;
    this.junkAccepted = false;
    this.usedIds.clear();
    this.server = undefined;
    this.observer = undefined;
    this.editor = undefined;
    if (!server) return;
    observer?.close();
    editor?.close();
    await server.settle().catch(() => undefined);
    await server.close();
    try {
      if (!verify) return;
      const reloaded = await server.reload();
      for (const [name, doc] of reloaded) {
        const expected = server.loadedDocuments.get(name)!.stored;
        if (!sameContent(doc, expected) || documentText(doc) !== documentText(expected)) {
          fail(`after ${inputs} inputs, a restart loads ${name} differently from what was appended to its store`);
        }
      }
    } finally {
      server.remove();
    }
  }

  private edit(ops: readonly DocOp[], length: number): void {
    // A well-behaved client stays well inside the size limit, so it is never refused.
    if (!this.editor || length > FUZZ_SETTINGS.maxDocumentChars / 2) return;
    const { doc } = this.editor;
    doc.transact(() => {
      for (const op of ops) applyDocOp(doc, op);
    });
  }

  private checkEscapes(server: InProcessServer, when: string): void {
    const [escape] = server.escapes;
    if (escape) {
      fail(`an exception escaped ${escape.where} ${when} (it would crash a real server): ${describeError(escape.error)}`, escape.error);
    }
    if (server.clientEscapes.length) fail(`a clean client's handler threw ${when}: ${describeError(server.clientEscapes[0])}`);
  }

  private async checkDocuments(
    server: InProcessServer,
    observer: CleanClient,
    editor: CleanClient,
    input: { refusal: string; announced: ReadonlyMap<number, 'added' | 'updated'> },
  ): Promise<void> {
    const full = this.checked.length % FULL_COMPARE_EVERY === 0;
    const stateOf = (doc: Y.Doc) => ({
      text: documentText(doc),
      stateVector: Buffer.from(Y.encodeStateVector(doc)).toString('hex'),
      snapshot: full ? Y.snapshot(doc) : undefined,
    });
    const same = (a: ReturnType<typeof stateOf>, b: ReturnType<typeof stateOf>) =>
      a.text === b.text && a.stateVector === b.stateVector && (!a.snapshot || !b.snapshot || Y.equalSnapshots(a.snapshot, b.snapshot));
    let primaryState: ReturnType<typeof stateOf> | undefined;
    for (const [name, loaded] of server.loadedDocuments) {
      const { shared, stored, badAppends } = loaded;
      if (badAppends.length) fail(`${name}: an appended update cannot be applied: ${badAppends[0]}`);
      const state = stateOf(shared.doc);
      if (name === FUZZ_DOCUMENT) primaryState = state;
      // After junk, one thing may differ: where an item boundary splits a surrogate pair, Yjs
      // keeps U+FFFD halves in one copy and the pair in another (it does not keep that stable
      // through encoding), so the text is compared with every surrogate and U+FFFD alike.
      const storedState = stateOf(stored);
      const looseText = (text: string) => text.replace(/[\ud800-\udfff\ufffd]/g, '?');
      const alike = this.junkAccepted
        ? same({ ...state, text: looseText(state.text) }, { ...storedState, text: looseText(storedState.text) })
        : same(state, storedState);
      if (!alike) {
        fail(
          `${name}: the document in memory differs from what was handed to the store, after ${input.refusal}; ` +
            `in memory ${JSON.stringify(shared.text)}, stored ${JSON.stringify(documentText(stored))}`,
        );
      }
      if (shared.text.length > FUZZ_SETTINGS.maxDocumentChars) fail(`${name} holds ${shared.text.length} characters, past maxDocumentChars ${FUZZ_SETTINGS.maxDocumentChars}`);
      const peers = name === FUZZ_DOCUMENT ? 2 : 0;
      if (shared.peerCount !== peers) fail(`${name} has ${shared.peerCount} peers after the client left (expected ${peers})`);
      if (name === FUZZ_DOCUMENT) {
        // Their awareness ids: Yjs gives a doc a new client id when junk used its old one.
        const left = [...shared.awareness.getStates().keys()].filter((id) => id !== observer.awareness.clientID && id !== editor.awareness.clientID);
        if (left.length) {
          const how = (kind: 'added' | 'updated' | undefined) => left.filter((id) => input.announced.get(id) === kind).length;
          fail(
            `presence of ${left.join(', ')} outlived the client that set it (announced as added: ${how('added')}, ` +
              `only as updated: ${how('updated')}, never announced: ${how(undefined)}), after ${input.refusal}; ` +
              `last events: ${left.map((id) => `${id} ${this.presenceJournal.get(id) ?? 'none'}`).join(', ')}`,
          );
        }
      }
    }
    const primary = server.loadedDocuments.get(FUZZ_DOCUMENT)!.shared;
    if (this.junkAccepted) {
      this.uncompared++;
      return;
    }
    for (const client of [observer, editor]) {
      const { ended } = client;
      if (ended) fail(`a well-behaved client was disconnected: ${ended.refusal?.message ?? ended.error?.message ?? 'closed'}`);
    }
    const sameAsServer = (doc: Y.Doc) => same(stateOf(doc), primaryState!);
    if (!sameAsServer(observer.doc)) {
      fail(`the observer's document differs from the server's: ${JSON.stringify(documentText(observer.doc))} vs ${JSON.stringify(primary.text)}`);
    }
    // What a new client gets in the server's step 2 must be the server's document. A whole
    // client session costs more than the rest of a run, so most runs check the step 2 itself,
    // and only with the full comparisons.
    if (!full) return;
    const stepTwo = primary.stepTwoFor(EMPTY_STATE_VECTOR);
    const copy = newDoc();
    if (stepTwo.type === MessageType.Sync) Y.applyUpdate(copy, stepTwo.data);
    // Structs waiting for a missing dependency travel in step 2 too; they explain most differences.
    const pending = () => (primary.doc.store.pendingStructs ? 'holding pending structs' : 'with no pending structs');
    if (!sameAsServer(copy)) {
      fail(`the server's step 2 for a new client gives ${JSON.stringify(documentText(copy))}, the server (${pending()}) holds ${JSON.stringify(primary.text)}`);
    }
    if (this.checked.length % FRESH_CLIENT_EVERY !== 0) return;
    const fresh = await server.connectClean(FUZZ_DOCUMENT, 'fresh');
    try {
      if (!sameAsServer(fresh.doc)) {
        fail(`a fresh client syncs to ${JSON.stringify(documentText(fresh.doc))}, the server (${pending()}) holds ${JSON.stringify(primary.text)}`);
      }
    } finally {
      fresh.close();
    }
    await server.settle();
    this.checkEscapes(server, 'while a fresh client synced');
  }
}

const stateArb = fc.option(fc.record({ user: fc.record({ name: fc.string({ maxLength: 8 }), color: fc.constantFrom('#30bced', '#ee6352') }) }), { nil: null, freq: 5 });

const validStepArb: fc.Arbitrary<ValidStep> = fc.oneof(
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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('awareness-entries' as const), entries: fc.array(awarenessEntryArb, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'query-awareness' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ping' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pong' as const }) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: validStepArb },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutated-data' as const), step: validStepArb, mutations: mutationsArb(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mutated-payload' as const), step: validStepArb, mutations: mutationsArb(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('message' as const), message: messageArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 24 }) }) },
);

const helloArb: fc.Arbitrary<HelloSpec> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ kind: fc.constant('valid' as const), clientName: fc.string({ maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other-document' as const), document: fc.constantFrom('other', 'fuzz-doc.2', 'FUZZ-DOC', 'a', '_', 'x'.repeat(64)) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fields' as const),
      version: fc.oneof(fc.constant(1), fc.nat({ max: 3 }), fc.maxSafeNat()),
      document: fc.oneof(fc.constant(FUZZ_DOCUMENT), fc.string({ maxLength: 70 }), fc.constantFrom('.fuzz', '../fuzz-doc', 'fuzz/doc', 'x'.repeat(65), '')),
      token: fc.oneof(fc.constant(FUZZ_TOKEN), fc.string({ maxLength: 12 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutations: mutationsArb(3) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** Arbitrary input of the message handling target. */
export const messageHandlingInputArb: fc.Arbitrary<MessageHandlingInput> = fc.record({
  hello: helloArb,
  edits: editSessionArb(4),
  startFromServer: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  steps: fc.array(stepArb, { maxLength: 8 }),
  streamMutations: fc.oneof({ weight: 9, arbitrary: fc.constant([] as Mutation[]) }, { weight: 1, arbitrary: mutationsArb(3) }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  pauses: fc.array(fc.nat({ max: 8 }), { maxLength: 4 }),
  editorEdit: fc.option(fc.record({ afterChunk: fc.nat({ max: 8 }), ops: fc.array(docOpArb, { minLength: 1, maxLength: 3 }) }), { freq: 4 }),
});

/** The server's message handling: answers or ERROR and close, nothing escapes, documents stay whole and stored. */
export const messageHandlingTarget: FuzzTarget<MessageHandlingInput> = {
  name: 'message-handling',
  summary: 'HELLO then valid, mutated and random frames (real Yjs updates) through ClientConnection and SharedDocument over a real store',
  input: messageHandlingInputArb,
  knownIssues: MESSAGE_HANDLING_KNOWN_ISSUES,
  open: async () => new MessageHandlingChecker(),
};
