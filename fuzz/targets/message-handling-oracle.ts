// What the server must answer to an input of the message handling target, worked out from its
// bytes alone with the protocol library, Yjs's own decoder and PROTOCOL.md's rules (issue 12's
// included), never with the server's code: which first answer (WELCOME, or which ERROR), how
// many PONG, step 2, FLUSHED and ACK, and which frame the server must refuse, if any.
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { TEXT_NAME, type CoreSettings } from '@collab/collab-core';
import {
  ErrorCode,
  MessageType,
  ProtocolError,
  SyncType,
  checkHello,
  decodeMessage,
  messageTypeName,
  type Message,
} from '@collab/collab-protocol';
import { FrameDecoder, FrameTooLargeError, MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import { fail } from '../support/fuzz-target';
import type { MemoryTransport } from '../support/memory-transport';
import { newDoc } from '../support/yjs-samples';

/** What the oracle must know of the server before an input arrives. */
export interface OracleContext {
  readonly settings: CoreSettings;
  /** The document the observer watches (its peers always answer QUERY_AWARENESS). */
  readonly primary: string;
  /** Whether a HELLO for `name` must get ERROR 1: no slot is free for it. */
  refusesDocument(name: string): boolean;
  /** Presence ids other connections hold in `document`. */
  /** Presence ids other connections hold in `document`, with the clock of the state each holds. */
  presenceHeldByOthers(document: string): ReadonlyMap<number, number>;
}

/** What the server must answer. */
export interface Expected {
  first: { kind: 'nothing' } | { kind: 'error'; codes: number[]; why: string } | { kind: 'welcome'; document: string };
  /** After the HELLO, up to the first frame the server must refuse. */
  pings: number;
  step1s: number;
  queries: number;
  flushes: number;
  changes: number;
  /** A frame after the HELLO the server must refuse, with the codes it may use (a bad frame after it may be refused first). */
  refusal: { why: string; codes: number[] } | undefined;
  /** Why the server may refuse even input a client library built (more presence ids across messages than one connection may hold). */
  mayRefuse: string[];
  /**
   * Whether an AWARENESS update the server must take names an id another connection holds, newer
   * than the state held: set aside with a [WARN]. No newer, it is an echo (y-websocket's provider
   * sends back every presence it receives), set aside quietly.
   */
  contested: boolean;
  /** Whether any AWARENESS update names such an id (the [WARN] may come only then). */
  namesOthers: boolean;
}

type Answer<T extends MessageType> = Extract<Message, { type: T }>;

function framingCode(error: Error): number {
  return error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError;
}

/** How deep arrays and objects nest in a parsed JSON value (iteratively: no stack to overflow). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(item as object)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Bytes an AWARENESS message with one state takes besides the state's JSON, at the least (type, lengths, count, id, clock). */
const MIN_PRESENCE_OVERHEAD_BYTES = 6;
/** ... and at the most (large ids and clocks): a state between the two may or may not fit a frame. */
const MAX_PRESENCE_OVERHEAD_BYTES = 64;

/**
 * The entries of an awareness update as y-protocols lays them out, or why the server must
 * refuse it. A state is bounded as sent and as the server writes it on (parsed and written
 * again, `1E9` becomes `1000000000`), and must fit one message of maxFrameBytes.
 */
function readPresence(
  update: Uint8Array,
  settings: CoreSettings,
): { entries: Array<{ id: number; clock: number; state: unknown }>; mayRefuse?: string } | { refused: string } {
  const entries: Array<{ id: number; clock: number; state: unknown }> = [];
  let mayRefuse: string | undefined;
  try {
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) {
      const id = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const json = decoding.readVarString(decoder);
      if (Buffer.byteLength(json) > settings.maxPresenceBytes)
        return { refused: `a presence state of ${Buffer.byteLength(json)} bytes (at most ${settings.maxPresenceBytes})` };
      const state: unknown = JSON.parse(json);
      if (nestingDepth(state) > settings.maxPresenceDepth)
        return { refused: `a presence state nested ${nestingDepth(state)} deep (at most ${settings.maxPresenceDepth})` };
      const written = Buffer.byteLength(JSON.stringify(state) ?? 'null');
      if (written > settings.maxPresenceBytes)
        return { refused: `a presence state of ${written} bytes as written again (at most ${settings.maxPresenceBytes})` };
      if (written > settings.maxFrameBytes - MIN_PRESENCE_OVERHEAD_BYTES)
        return { refused: `a presence state of ${written} bytes, which fits no frame` };
      if (written > settings.maxFrameBytes - MAX_PRESENCE_OVERHEAD_BYTES)
        mayRefuse = `a presence state of ${written} bytes, which may not fit a frame`;
      entries.push({ id, clock, state });
    }
  } catch (error) {
    return { refused: `an AWARENESS update that cannot be read (${(error as Error).message})` };
  }
  return { entries, mayRefuse };
}

/** Whether an update only inserts text into and deletes from the text `content`: Yjs's decoder decides. */
function updateShape(update: Uint8Array): 'text' | 'unreadable' | 'not-text' {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return 'unreadable';
  }
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    if (!(struct.content instanceof Y.ContentString) && !(struct.content instanceof Y.ContentDeleted)) return 'not-text';
    // Placed by a neighbour (origin), an item has no parent in the update; placed by its parent, that must be the text.
    const parent: unknown = struct.parent;
    if ((parent !== null && parent !== TEXT_NAME) || struct.parentSub !== null) return 'not-text';
  }
  return 'text';
}

/** The answers an input's byte stream calls for. */
export function expectedAnswers(stream: Buffer, context: OracleContext): Expected {
  const { settings } = context;
  const payloads: Buffer[] = [];
  let framing: Error | undefined;
  // Before HELLO only a small frame is read; after it, frames up to maxFrameBytes.
  const decoder = new FrameDecoder({ maxFrameBytes: settings.maxHelloBytes });
  try {
    decoder.decode(stream, (payload) => {
      payloads.push(payload);
      decoder.maxFrameBytes = settings.maxFrameBytes;
    });
  } catch (error) {
    framing = error as Error;
  }
  const expected: Expected = {
    first: { kind: 'nothing' },
    pings: 0,
    step1s: 0,
    queries: 0,
    flushes: 0,
    changes: 0,
    refusal: undefined,
    mayRefuse: [],
    contested: false,
    namesOthers: false,
  };
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
  const decision = checkHello(hello, { token: settings.token });
  if (!decision.ok) {
    expected.first = { kind: 'error', codes: [decision.code], why: decision.message };
    return expected;
  }
  if (context.refusesDocument(decision.document)) {
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
    expected.first = { kind: 'error', codes, why: 'no document slot is free' };
    return expected;
  }
  expected.first = { kind: 'welcome', document: decision.document };
  // A frame that cannot be read is refused as it arrives; a readable message the server must
  // refuse is refused when its turn comes, which is later while the document loads. So a bad
  // frame after a refused message may be the one refused.
  const refuse = (why: string, code: number) => {
    expected.refusal = { why: expected.refusal?.why ?? why, codes: [...(expected.refusal?.codes ?? []), code] };
  };
  const others = context.presenceHeldByOthers(decision.document);
  const introduced = new Set<number>();
  for (const payload of payloads.slice(1)) {
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      refuse((error as Error).message, (error as ProtocolError).errorCode);
      return expected;
    }
    if (expected.refusal) continue;
    switch (message.type) {
      case MessageType.Sync:
        if (message.syncType === SyncType.Step1) {
          try {
            Y.decodeStateVector(message.data);
            expected.step1s++;
          } catch {
            refuse('a SYNC step 1 whose state vector cannot be decoded', ErrorCode.ProtocolError);
          }
        } else {
          expected.changes++;
          const shape = updateShape(message.data);
          if (shape === 'unreadable') refuse('an update Yjs cannot read', ErrorCode.ProtocolError);
          if (shape === 'not-text') refuse('an update that changes more than the text', ErrorCode.ProtocolError);
        }
        break;
      case MessageType.Awareness: {
        const read = readPresence(message.update, settings);
        if ('refused' in read) {
          refuse(read.refused, ErrorCode.ProtocolError);
          break;
        }
        if (read.mayRefuse) expected.mayRefuse.push(read.mayRefuse);
        const here = new Set<number>();
        let contested = false;
        for (const { id, clock, state } of read.entries) {
          const held = others.get(id);
          if (held !== undefined) {
            expected.namesOthers = true;
            if (clock > held) contested = true;
          } else if (state !== null) here.add(id);
        }
        for (const id of here) introduced.add(id);
        // One update naming more fresh ids than a connection may hold is refused whatever came
        // before; across updates it depends on which were taken (clocks), so only may be.
        if (here.size > settings.maxPresenceIdsPerClient)
          refuse(`an AWARENESS update setting ${here.size} presence ids`, ErrorCode.ProtocolError);
        else if (introduced.size > settings.maxPresenceIdsPerClient) expected.mayRefuse.push(`${introduced.size} presence ids set in all`);
        else if (contested) expected.contested = true;
        break;
      }
      case MessageType.Ping:
        expected.pings++;
        break;
      case MessageType.QueryAwareness:
        expected.queries++;
        break;
      case MessageType.Flush:
        expected.flushes++;
        break;
      case MessageType.Pong:
        break;
      default:
        refuse(`a client sent ${messageTypeName(message.type)}`, ErrorCode.ProtocolError);
    }
  }
  if (framing) refuse(framing.message, framingCode(framing));
  return expected;
}

/** What the server sent on a transport, decoded; fails on anything a server may not send. */
export function readOutput(transport: MemoryTransport, settings: CoreSettings): Message[] {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
  const messages: Message[] = [];
  try {
    for (const payload of decoder.write(Buffer.concat(transport.frames))) {
      if (payload.length > settings.maxFrameBytes) {
        fail(
          `the server sent a frame of ${payload.length} bytes, past the maxFrameBytes of ${settings.maxFrameBytes} it announced (${messageTypeName(payload[0])})`,
        );
      }
      messages.push(decodeMessage(payload));
    }
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    fail(`the server sent bytes its own protocol library cannot read: ${error.message}`);
  }
  if (!decoder.idle) fail('the server sent part of a frame');
  const serverTypes = [
    MessageType.Welcome,
    MessageType.Sync,
    MessageType.Awareness,
    MessageType.Error,
    MessageType.Ack,
    MessageType.Pong,
    MessageType.Flushed,
  ];
  for (const m of messages) if (!serverTypes.includes(m.type)) fail(`the server sent ${messageTypeName(m.type)}`);
  return messages;
}

/** The answers in a few words, for failure messages. */
export function describeMessages(messages: readonly Message[]): string {
  return messages
    .map((m) =>
      m.type === MessageType.Error
        ? `ERROR ${m.code} (${m.message})`
        : m.type === MessageType.Sync
          ? `SYNC ${m.syncType}`
          : messageTypeName(m.type),
    )
    .join(', ');
}

/**
 * Whether, applied in order to the server's document as it was, one of the changes in a valid
 * stream needs changes the server lacked (Yjs would keep it aside): the server refuses that with ERROR 3.
 */
export function needsMissingChanges(stateBefore: Uint8Array, stream: Uint8Array): boolean {
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

/** Checks the answers to an input the client sent whole and then waited for. */
export function checkAnswers(
  expected: Expected,
  messages: Message[],
  transport: MemoryTransport,
  options: { settings: CoreSettings; primary: string; valid: boolean; needsMissing: () => boolean },
): void {
  const closed = transport.closing;
  const said = () => `the server said: ${describeMessages(messages) || 'nothing'}`;
  if (transport.sendsAfterClose) fail(`the server sent ${transport.sendsAfterClose} messages after closing the connection; ${said()}`);
  if (expected.first.kind === 'nothing') {
    if (messages.length || closed) fail(`the server answered before a whole first frame arrived; ${said()}`);
    return;
  }
  const errorAt = messages.findIndex((m) => m.type === MessageType.Error);
  const error = errorAt < 0 ? undefined : (messages[errorAt] as Answer<MessageType.Error>);
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
  const { settings } = options;
  const welcome = messages[0];
  if (
    welcome?.type !== MessageType.Welcome ||
    welcome.document !== expected.first.document ||
    welcome.version !== 1 ||
    welcome.server !== settings.serverName ||
    welcome.maxFrameBytes !== settings.maxFrameBytes
  ) {
    fail(`a good HELLO must get WELCOME for ${expected.first.document} first; ${said()}`);
  }
  const join = messages[1];
  if (join?.type !== MessageType.Sync || join.syncType !== SyncType.Step1)
    fail(`WELCOME must be followed by the server's sync step 1; ${said()}`);
  const count = (predicate: (m: Message) => boolean) => messages.filter(predicate).length;
  const pongs = count((m) => m.type === MessageType.Pong);
  const step2s = count((m) => m.type === MessageType.Sync && m.syncType === SyncType.Step2);
  const flusheds = count((m) => m.type === MessageType.Flushed);
  const awarenesses = count((m) => m.type === MessageType.Awareness);
  const acks = messages.flatMap((m) => (m.type === MessageType.Ack ? [m.count] : []));
  if (pongs > expected.pings || step2s > expected.step1s || flusheds > expected.flushes) {
    fail(
      `more answers than questions: ${pongs} PONG for ${expected.pings} PING, ${step2s} step 2 for ${expected.step1s} step 1, ${flusheds} FLUSHED for ${expected.flushes} FLUSH`,
    );
  }
  acks.forEach((n, i) => {
    if (n < 1 || n > expected.changes || (i > 0 && n <= acks[i - 1])) fail(`ACKs ${acks.join(', ')} for ${expected.changes} changes`);
  });
  if (error) {
    // Besides the refusal the stream calls for, an update Yjs cannot apply or that needs
    // changes the server lacks (ERROR 3), or an edit past the size limit (ERROR 10), may end
    // the conversation earlier.
    const allowed = [ErrorCode.ProtocolError, ErrorCode.DocumentTooLarge, ...(refusal?.codes ?? [])];
    if (!allowed.includes(error.code))
      fail(`ERROR ${error.code} after WELCOME (${error.message}); only ${allowed.join(', ')} can happen here`);
    if (options.valid && error.code !== ErrorCode.DocumentTooLarge) {
      // A well-formed update that needs changes the server lacks is refused (the server keeps nothing aside).
      const missing = error.code === ErrorCode.ProtocolError && error.message.includes(MISSING_CHANGES);
      if (!missing) fail(`valid input was refused with ERROR ${error.code}: ${error.message}`);
      if (!options.needsMissing()) fail(`an update was refused for needing changes the server lacks, but it does not: ${error.message}`);
    }
    return;
  }
  if (options.valid && options.needsMissing()) fail('an update that needs changes the server lacks was not refused');
  if (refusal) fail(`the server went on after a frame it must refuse (${refusal.why}); ${said()}`);
  if (pongs !== expected.pings) fail(`${pongs} PONG for ${expected.pings} PING`);
  if (step2s !== expected.step1s) fail(`${step2s} sync step 2 for ${expected.step1s} step 1`);
  if (flusheds !== expected.flushes) fail(`${flusheds} FLUSHED for ${expected.flushes} FLUSH`);
  // Nobody present, nothing to say: only the observer's document always has presence.
  if (expected.first.document === options.primary && awarenesses < expected.queries)
    fail(`${awarenesses} AWARENESS for ${expected.queries} QUERY_AWARENESS`);
  if (expected.changes && acks[acks.length - 1] !== expected.changes)
    fail(`ACKs ${acks.join(', ') || 'none'} for ${expected.changes} changes`);
}

/** Checks what the server sent a client that left without waiting: whatever came is in order, and an ERROR is last. */
export function checkAnswersAfterLeaving(messages: Message[], transport: MemoryTransport): void {
  const said = () => `the server said: ${describeMessages(messages) || 'nothing'}`;
  if (transport.sendsAfterClose) fail(`the server sent ${transport.sendsAfterClose} messages after closing the connection; ${said()}`);
  const errorAt = messages.findIndex((m) => m.type === MessageType.Error);
  if (errorAt >= 0 && errorAt !== messages.length - 1) fail(`the server sent frames after its ERROR; ${said()}`);
  const first = messages[0];
  if (first && first.type !== MessageType.Welcome && first.type !== MessageType.Error)
    fail(`the server's first frame was neither WELCOME nor ERROR; ${said()}`);
  const error = messages[errorAt] as Answer<MessageType.Error> | undefined;
  const never: number[] = [ErrorCode.StorageUnavailable, ErrorCode.Timeout, ErrorCode.ShuttingDown];
  if (error && never.includes(error.code)) fail(`a client that left got ERROR ${error.code} (${error.message})`);
}
