// The checks of the message handling targets. One fuzz server (FuzzServer: the real core over
// a real storage) serves up to EPOCH_INPUTS inputs, with an observer and an editor on the main
// document the whole time and "sitters" holding other documents open, so the document slots
// are all taken (even servers) or all but one (odd servers): a slot an input leaves behind
// shows at once, as ERROR 1 for the next input or as a document still loaded after its last
// client left.
//
// Properties: nothing escapes the core, and it logs no [ERROR]; the server answers (WELCOME,
// PONG per PING, step 2 per step 1, FLUSHED per FLUSH, ACK of every change) or sends one ERROR,
// last, and closes; a refusal comes when the rules say so and valid input is never refused
// (but ERROR 10, and ERROR 3 exactly when an update needs changes the server lacks, checked by
// replaying the stream on a copy); every frame fits the maxFrameBytes it announced; presence
// stays within its bounds and nobody's presence is taken over; every change in memory was
// handed to the storage, and a reload (after an unload, or a restart) loads it; the observer
// and a fresh client hold exactly the server's document, however many parts it took; no
// connection, peer, presence or loaded document outlives its client.
import * as Y from 'yjs';
import { TEXT_NAME, type SharedDocument } from '@collab/collab-core';
import { MessageType, SyncType, decodeMessage, type Message } from '@collab/collab-protocol';
import { splitAt } from '../support/byte-mutation';
import { fail, type FuzzChecker } from '../support/fuzz-target';
import { FuzzServer, type CleanClient } from '../support/fuzz-server';
import { sameContent } from '../support/recording-storage';
import { applyDocOp, newDoc, type DocOp } from '../support/yjs-samples';
import {
  FUZZ_DOCUMENT,
  SITTER_DOCUMENTS,
  buildStream,
  isGeneratedValid,
  type HandlingProfile,
  type MessageHandlingInput,
} from './message-handling-input';
import {
  checkAnswers,
  checkAnswersAfterLeaving,
  expectedAnswers,
  needsMissingChanges,
  nestingDepth,
  readOutput,
  type Expected,
} from './message-handling-oracle';

/** Inputs sharing one server before it is replaced (and restarted, to check what it stored). */
const EPOCH_INPUTS = 100;
/**
 * Documents are compared in full (state vector and delete set, Y.snapshot) after every this
 * many inputs, and by text and state vector after the others: snapshots cost as much as the
 * rest of a run. A difference only the full comparison sees then shows up a few inputs late.
 */
const FULL_COMPARE_EVERY = 4;
const EMPTY_STATE_VECTOR = Uint8Array.of(0);

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

function documentText(doc: Y.Doc): string {
  return doc.getText(TEXT_NAME).toString();
}

/** Fuzz state shared by the inputs of one epoch: the server, its storage, its well-behaved clients. */
export class MessageHandlingChecker implements FuzzChecker<MessageHandlingInput> {
  readonly async = true;
  private server: FuzzServer | undefined;
  /** Listens only, so its document must be exactly the server's. */
  private observer: CleanClient | undefined;
  /** Edits while inputs arrive; its own copy may differ (Yjs replaces a split surrogate pair locally), so only its connection is checked. */
  private editor: CleanClient | undefined;
  /** Hold the other documents open (without presence), taking their slots. */
  private sitters: CleanClient[] = [];
  private sitterDocuments: string[] = [];
  private primary: SharedDocument | undefined;
  /** Inputs checked on the current server, oldest first. */
  private readonly checked: MessageHandlingInput[] = [];
  /** Inputs after which the peers' documents were not compared with the server's, for the stats. */
  private uncompared = 0;
  private servers = 0;
  private leftEarly = 0;
  /** How often each ERROR code was the answer, and the most parts one step 2 took: what the inputs reached. */
  private readonly errors = new Map<number, number>();
  private mostParts = 0;
  /** The last awareness event of each client id on the current server, to explain a leftover presence. */
  private readonly presenceJournal = new Map<number, string>();
  /** Yjs client ids the inputs on the current server have edited as. */
  private readonly usedIds = new Set<number>();

  constructor(private readonly profile: HandlingProfile) {}

  async check(input: MessageHandlingInput): Promise<void> {
    const { server, observer, editor, primary } = await this.epoch();
    this.checked.push(input);
    const { settings } = this.profile;
    const { doc } = primary;
    const observerId = observer.awareness!.clientID;
    const editorId = editor.awareness!.clientID;
    const { stream, genuine } = buildStream(input, {
      settings,
      clientId: this.clientIdFor(input, doc),
      observerId,
      editorId,
      serverState: () => Y.encodeStateAsUpdate(doc),
    });
    for (const hex of genuine) server.storage.genuine.add(hex);
    const held = new Set([FUZZ_DOCUMENT, ...this.sitterDocuments]);
    const loaded = server.core.documents.names;
    const expected = expectedAnswers(stream, {
      settings,
      primary: FUZZ_DOCUMENT,
      refusesDocument: (name) => !loaded.includes(name) && loaded.length >= settings.maxDocuments,
      presenceHeldByOthers: (name) => {
        const held = new Map<number, number>();
        if (name !== FUZZ_DOCUMENT) return held;
        // The clock each well-behaved client last sent, which the server holds.
        for (const { awareness } of [observer, editor]) held.set(awareness!.clientID, awareness!.meta.get(awareness!.clientID)!.clock);
        return held;
      },
    });
    const stateBefore = Y.encodeStateAsUpdate(doc);
    const chunks = splitAt(stream, input.cuts);
    server.logger.warnings.length = 0;
    const { transport, connection } = server.connect();
    // How the server's Awareness reported each presence this client set, to explain a leftover.
    const announced = new Map<number, 'added' | 'updated'>();
    const onPresence = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin !== connection) return;
      for (const id of added) announced.set(id, 'added');
      for (const id of removed) announced.delete(id);
      for (const id of updated) if (announced.get(id) !== 'added') announced.set(id, 'updated');
    };
    primary.presence.awareness.on('update', onPresence);
    let left = false;
    for (let i = 0; i < chunks.length && !left; i++) {
      transport.receive(chunks[i]);
      if (input.leaveAfterChunk !== null && input.leaveAfterChunk % chunks.length === i) {
        transport.peerEnd();
        left = true;
      }
      if (input.editorEdit && input.editorEdit.afterChunk % chunks.length === i) this.edit(input.editorEdit.ops, primary.text.length);
      if (input.pauses.includes(i)) await new Promise((resolve) => setImmediate(resolve));
    }
    await server.settle();
    this.checkEscapes(server, 'while the input arrived');
    const answers = readOutput(transport, settings);
    if (left) {
      this.leftEarly++;
      checkAnswersAfterLeaving(answers, transport);
    } else {
      const valid = isGeneratedValid(input) && expected.first.kind === 'welcome' && !expected.refusal && !expected.mayRefuse.length;
      checkAnswers(expected, answers, transport, {
        settings,
        primary: FUZZ_DOCUMENT,
        valid,
        needsMissing: () => needsMissingChanges(stateBefore, stream),
      });
      if (expected.first.kind === 'welcome' && expected.first.document === FUZZ_DOCUMENT && connection) {
        this.checkPresence(server, primary, connection.label, expected, answers);
      }
    }
    const refusal = answers.find((m) => m.type === MessageType.Error);
    if (refusal?.type === MessageType.Error) this.errors.set(refusal.code, (this.errors.get(refusal.code) ?? 0) + 1);

    transport.peerEnd();
    await server.settle();
    // A document only this client used is unloaded once it left (unloadAfterMs 0): let that timer run.
    if (server.core.documents.names.some((name) => !held.has(name))) await server.settle({ timers: true });
    primary.presence.awareness.off('update', onPresence);
    this.checkEscapes(server, 'when the client closed');
    if (transport.sendsAfterClose) fail(`the server sent ${transport.sendsAfterClose} messages to a closed connection`);
    const clients = 2 + this.sitters.length;
    if (server.core.connectionCount !== clients) fail(`${server.core.connectionCount - clients} connections outlived their client`);
    const stray = server.core.documents.names.filter((name) => !held.has(name));
    if (stray.length) fail(`document ${stray.join(', ')} is still loaded after its last client left: its slot is taken for good`);
    await this.checkDocuments(server, observer, editor, primary, {
      refusal:
        refusal?.type === MessageType.Error ? `ERROR ${refusal.code} (${refusal.message})` : left ? 'the client left early' : 'no ERROR',
      announced,
    });
  }

  async recover(): Promise<void> {
    await this.closeEpoch(false);
  }

  stats(): Record<string, number> {
    const errors = [...this.errors.entries()]
      .sort(([a], [b]) => a - b)
      .map(([code, n]): [string, number] => [`inputs answered with ERROR ${code}`, n]);
    return {
      'servers started': this.servers,
      'inputs whose client left early': this.leftEarly,
      'inputs whose junk Yjs accepted (peers not compared)': this.uncompared,
      ...Object.fromEntries(errors),
      'most parts of one step 2 (for a new client)': this.mostParts,
    };
  }

  history(): readonly MessageHandlingInput[] {
    return [...this.checked];
  }

  async close(): Promise<void> {
    await this.closeEpoch(true);
  }

  private async epoch(): Promise<{ server: FuzzServer; observer: CleanClient; editor: CleanClient; primary: SharedDocument }> {
    const text = this.primary?.text.length ?? 0;
    const full = this.checked.length >= EPOCH_INPUTS || text > this.profile.settings.maxDocumentChars * 0.8;
    // A restart is checked at the end of a full epoch, not after junk (to keep runs cheap).
    if (this.server && (full || this.junkAccepted(this.server))) await this.closeEpoch(full);
    if (!this.server || !this.observer || !this.editor || !this.primary) {
      const { settings, storage, compactBytes } = this.profile;
      const server = await FuzzServer.start({ settings, storage, compactBytes });
      this.servers++;
      this.server = server;
      this.observer = await server.connectClean(FUZZ_DOCUMENT, 'observer');
      this.primary = await server.document(FUZZ_DOCUMENT);
      if (!this.primary) throw new Error(`${FUZZ_DOCUMENT} is not loaded after its first client synced`);
      this.presenceJournal.clear();
      this.primary.presence.awareness.on('update', this.journal);
      this.editor = await server.connectClean(FUZZ_DOCUMENT, 'editor');
      // Every slot taken on even servers; one left free on odd ones, which each input must give back.
      this.sitterDocuments = SITTER_DOCUMENTS.slice(0, this.servers % 2 === 0 ? SITTER_DOCUMENTS.length : SITTER_DOCUMENTS.length - 1);
      for (const name of this.sitterDocuments) this.sitters.push(await server.connectClean(name, 'sitter', { presence: false }));
    }
    return { server: this.server, observer: this.observer, editor: this.editor, primary: this.primary };
  }

  /** Whether the server stored an update no well-behaved client sent that changed the main document. */
  private junkAccepted(server: FuzzServer): boolean {
    return (server.storage.records.get(FUZZ_DOCUMENT)?.junk ?? 0) > 0;
  }

  /** Ends an epoch; when `verify`, a restart must load exactly what was appended. */
  private async closeEpoch(verify: boolean): Promise<void> {
    const { server } = this;
    const inputs = this.checked.splice(0).length;
    this.usedIds.clear();
    for (const client of [this.observer, this.editor, ...this.sitters]) client?.close();
    this.server = undefined;
    this.observer = undefined;
    this.editor = undefined;
    this.sitters = [];
    this.sitterDocuments = [];
    this.primary = undefined;
    if (!server) return;
    await server.settle().catch(() => undefined);
    await server.close();
    try {
      if (!verify) return;
      this.checkEscapes(server, 'while the server shut down');
      const differ = [...(await server.reload())]
        .filter(([name, doc]) => !sameContent(doc, server.storage.records.get(name)!.stored))
        .map(([name]) => name);
      if (differ.length)
        fail(`after ${inputs} inputs, a restart loads ${differ.join(', ')} differently from what was appended to its storage`);
    } finally {
      server.remove();
    }
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

  private edit(ops: readonly DocOp[], length: number): void {
    // A well-behaved client stays well inside the size limit, so it is never refused.
    if (!this.editor || length > this.profile.settings.maxDocumentChars / 2) return;
    const { doc } = this.editor;
    doc.transact(() => {
      for (const op of ops) applyDocOp(doc, op);
    });
  }

  private checkEscapes(server: FuzzServer, when: string): void {
    const [escape] = server.escapes;
    if (escape)
      fail(`an exception escaped ${escape.where} ${when} (it would crash a real server): ${describeError(escape.error)}`, escape.error);
    const [error] = server.logger.errors;
    if (error) fail(`the server logged an [ERROR] ${when}: ${error}`);
    if (server.clientEscapes.length) fail(`a clean client's handler threw ${when}: ${describeError(server.clientEscapes[0])}`);
    const [oversized] = server.oversized;
    if (oversized)
      fail(`the server sent a message past the maxFrameBytes of ${this.profile.settings.maxFrameBytes} it announced ${when}: ${oversized}`);
    const [failure] = server.storage.failures;
    if (failure) fail(`${failure} (found ${when})`);
  }

  /** Presence after an input the server took in the main document: within bounds, and nobody else's taken over. */
  private checkPresence(server: FuzzServer, primary: SharedDocument, label: string, expected: Expected, answers: Message[]): void {
    const { settings } = this.profile;
    const states = primary.presence.awareness.getStates();
    for (const client of [this.observer!, this.editor!]) {
      const own = JSON.stringify(client.awareness!.getLocalState());
      const held = JSON.stringify(states.get(client.awareness!.clientID) ?? null);
      if (own !== held) fail(`the server holds ${held} as the presence of a well-behaved client that set ${own}`);
    }
    const others = [...states.keys()].filter((id) => id !== this.observer!.awareness!.clientID && id !== this.editor!.awareness!.clientID);
    if (others.length > settings.maxPresenceIdsPerClient)
      fail(`one connection holds ${others.length} presence ids (at most ${settings.maxPresenceIdsPerClient})`);
    for (const [id, state] of states) {
      if (nestingDepth(state) > settings.maxPresenceDepth)
        fail(`the presence of ${id} is nested ${nestingDepth(state)} deep (at most ${settings.maxPresenceDepth})`);
    }
    const warned = server.logger.warnings.some((line) => line.includes(`Client ${label} sent presence for id`));
    const refused = answers.some((m) => m.type === MessageType.Error);
    if (expected.contested && !refused && !warned) fail('presence for an id another connection holds was set aside without a [WARN] line');
    if (warned && !expected.namesOthers)
      fail('a [WARN] line says the client sent presence for an id another connection holds, which it did not');
  }

  private async checkDocuments(
    server: FuzzServer,
    observer: CleanClient,
    editor: CleanClient,
    primary: SharedDocument,
    input: { refusal: string; announced: ReadonlyMap<number, 'added' | 'updated'> },
  ): Promise<void> {
    const { settings } = this.profile;
    const full = this.checked.length % FULL_COMPARE_EVERY === 0;
    const stateOf = (doc: Y.Doc) => ({
      text: documentText(doc),
      stateVector: Buffer.from(Y.encodeStateVector(doc)).toString('hex'),
      snapshot: full ? Y.snapshot(doc) : undefined,
    });
    const same = (a: ReturnType<typeof stateOf>, b: ReturnType<typeof stateOf>) =>
      a.text === b.text && a.stateVector === b.stateVector && (!a.snapshot || !b.snapshot || Y.equalSnapshots(a.snapshot, b.snapshot));
    const primaryState = stateOf(primary.doc);
    for (const [name, shared] of await server.documents()) {
      const record = server.storage.records.get(name);
      if (!record) fail(`${name} is loaded but was never opened through the storage`);
      const state = name === FUZZ_DOCUMENT ? primaryState : stateOf(shared.doc);
      // After junk, one thing may differ: where an item boundary splits a surrogate pair, Yjs
      // keeps U+FFFD halves in one copy and the pair in another (it does not keep that stable
      // through encoding), so the text is compared with every surrogate and U+FFFD alike.
      const storedState = stateOf(record.stored);
      const looseText = (text: string) => text.replace(/[\ud800-\udfff\ufffd]/g, '?');
      const alike = record.junk
        ? same({ ...state, text: looseText(state.text) }, { ...storedState, text: looseText(storedState.text) })
        : same(state, storedState);
      if (!alike) {
        fail(
          `${name}: the document in memory differs from what was handed to the storage, after ${input.refusal}; ` +
            `in memory ${JSON.stringify(shared.text)}, stored ${JSON.stringify(documentText(record.stored))}`,
        );
      }
      const { store } = shared.doc;
      if (store.pendingStructs || store.pendingDs)
        fail(`${name} keeps changes aside (pending structs or deletions), after ${input.refusal}`);
      if (shared.text.length > settings.maxDocumentChars)
        fail(`${name} holds ${shared.text.length} characters, past maxDocumentChars ${settings.maxDocumentChars}`);
      const peers = name === FUZZ_DOCUMENT ? 2 : 1;
      if (shared.peerCount !== peers) fail(`${name} has ${shared.peerCount} peers after the client left (expected ${peers})`);
    }
    // Their awareness ids: Yjs gives a doc a new client id when junk used its old one.
    const keep = new Set([observer.awareness!.clientID, editor.awareness!.clientID]);
    const leftover = [...primary.presence.awareness.getStates().keys()].filter((id) => !keep.has(id));
    if (leftover.length) {
      const how = (kind: 'added' | 'updated' | undefined) => leftover.filter((id) => input.announced.get(id) === kind).length;
      fail(
        `presence of ${leftover.join(', ')} outlived the client that set it (announced as added: ${how('added')}, ` +
          `only as updated: ${how('updated')}, never announced: ${how(undefined)}), after ${input.refusal}; ` +
          `last events: ${leftover.map((id) => `${id} ${this.presenceJournal.get(id) ?? 'none'}`).join(', ')}`,
      );
    }
    if (this.junkAccepted(server)) {
      this.uncompared++;
      return;
    }
    for (const client of [observer, editor, ...this.sitters]) {
      const { ended } = client;
      if (ended) fail(`a well-behaved client was disconnected: ${ended.refusal?.message ?? ended.error?.message ?? 'closed'}`);
    }
    const sameAsServer = (doc: Y.Doc) => same(stateOf(doc), primaryState);
    if (!sameAsServer(observer.doc)) {
      fail(
        `the observer's document differs from the server's: ${JSON.stringify(documentText(observer.doc))} vs ${JSON.stringify(primary.text)}`,
      );
    }
    // What a new client gets for its step 1 must be the server's document, in as many parts as
    // it takes: SYNC updates, then a step 2. A whole client session costs more than the rest of
    // a run, so most runs check the answer itself, and only with the full comparisons.
    if (!full) return;
    const parts = primary.stepTwoFor(EMPTY_STATE_VECTOR);
    this.mostParts = Math.max(this.mostParts, parts.length);
    const copy = newDoc();
    parts.forEach((payload, i) => {
      if (payload.length > settings.maxFrameBytes)
        fail(`part ${i + 1} of ${parts.length} of the server's step 2 takes ${payload.length} bytes, past maxFrameBytes`);
      const message = decodeMessage(payload);
      const last = i === parts.length - 1;
      if (message.type !== MessageType.Sync || message.syncType !== (last ? SyncType.Step2 : SyncType.Update)) {
        fail(`part ${i + 1} of ${parts.length} of the server's step 2 is not a SYNC ${last ? 'step 2' : 'update'}`);
      }
      Y.applyUpdate(copy, message.data);
    });
    if (!sameAsServer(copy)) {
      fail(
        `the server's step 2 for a new client (${parts.length} parts) gives ${JSON.stringify(documentText(copy))}, the server holds ${JSON.stringify(primary.text)}`,
      );
    }
    if (this.checked.length % this.profile.freshClientEvery !== 0) return;
    const fresh = await server.connectClean(FUZZ_DOCUMENT, 'fresh');
    try {
      if (!sameAsServer(fresh.doc))
        fail(`a fresh client syncs to ${JSON.stringify(documentText(fresh.doc))}, the server holds ${JSON.stringify(primary.text)}`);
    } finally {
      fresh.close();
    }
    await server.settle();
    this.checkEscapes(server, 'while a fresh client synced');
  }
}
