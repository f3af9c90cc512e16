// Presence (y-protocols awareness) of the people in one document, with the bounds a server
// needs: each state is small and shallow (a deep one overflows the stack of every JSON encoder
// that later sends it), each connection introduces a handful of ids and may only set or remove
// those, and nothing is remembered of an id once it is gone. A client with no presence of its own
// (a plain-text client) is given one by the server, so the others see who is in the document.

import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { uint32 } from 'lib0/random';
import type * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, outdatedTimeout, removeAwarenessStates } from 'y-protocols/awareness';
import { PresenceRefusedError } from './errors';

/** Bounds of presence states; see CoreSettings. */
export interface PresenceLimits {
  maxStateBytes: number;
  maxDepth: number;
  maxIdsPerPeer: number;
}

/** One entry of an awareness update. */
interface PresenceEntry {
  id: number;
  clock: number;
  json: string;
  state: unknown;
}

/** What apply() did besides applying. */
export interface PresenceOutcome {
  /** Ids another connection holds: their entries were set aside. */
  readonly contested: readonly number[];
}

const utf8 = new TextEncoder();

/** Whether arrays and objects in `value` nest at most `limit` deep (iteratively: no stack to overflow). */
export function nestsWithin(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return false;
    for (const child of Object.values(item as object)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return true;
}

/**
 * The UTF-8 bytes JSON.stringify takes for a value JSON.parse made, counted without writing the
 * value out (iteratively: only its strings, numbers and keys are written, one at a time).
 */
export function writtenJsonBytes(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') {
      bytes += utf8.encode(JSON.stringify(item) ?? 'null').length;
      continue;
    }
    const children = Array.isArray(item) ? item : Object.values(item as object);
    // Brackets, and a comma between two children; an object's keys also take a colon each.
    bytes += 2 + Math.max(0, children.length - 1);
    if (!Array.isArray(item)) for (const key of Object.keys(item as object)) bytes += utf8.encode(JSON.stringify(key)).length + 1;
    for (const child of children) stack.push(child);
  }
  return bytes;
}

/** The entries of an awareness update that were kept, and how many it held. */
interface ReadEntries {
  entries: PresenceEntry[];
  total: number;
}

/** Whether the next varString of `decoder` is exactly `null` (a removal); if so it is consumed. */
function readNullState(decoder: decoding.Decoder): boolean {
  const { arr, pos } = decoder;
  // varUint 4, then the four bytes of "null".
  if (arr[pos] === 4 && arr[pos + 1] === 0x6e && arr[pos + 2] === 0x75 && arr[pos + 3] === 0x6c && arr[pos + 4] === 0x6c) {
    decoder.pos = pos + 5;
    return true;
  }
  return false;
}

/**
 * The entries of an awareness update, checked against the limits; throws PresenceRefusedError.
 * A removal (`null` state) for which `keepRemoval(id)` is false is skipped as it is read, without
 * decoding or allocating anything: an update can hold hundreds of thousands of them.
 */
function readEntries(update: Uint8Array, limits: PresenceLimits, keepRemoval: (id: number) => boolean): ReadEntries {
  const entries: PresenceEntry[] = [];
  let total = 0;
  try {
    const decoder = decoding.createDecoder(update);
    total = decoding.readVarUint(decoder);
    for (let i = 0; i < total; i++) {
      const id = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      if (readNullState(decoder)) {
        if (keepRemoval(id)) entries.push({ id, clock, json: 'null', state: null });
        continue;
      }
      // A varString starts with its length in UTF-8 bytes: a state too large is refused unread.
      const start = decoder.pos;
      const bytes = decoding.readVarUint(decoder);
      if (bytes > limits.maxStateBytes) {
        throw new PresenceRefusedError(
          `A presence state may hold at most ${limits.maxStateBytes} bytes of JSON; one of ${bytes} bytes was sent.`,
        );
      }
      decoder.pos = start;
      const json = decoding.readVarString(decoder);
      const state: unknown = JSON.parse(json);
      if (!nestsWithin(state, limits.maxDepth)) {
        throw new PresenceRefusedError(`A presence state may nest arrays and objects at most ${limits.maxDepth} deep.`);
      }
      // A state is kept parsed and sent on written again, which can be longer than what came
      // (`1E20` is written 100000000000000000000): the limit holds for what is sent.
      const written = writtenJsonBytes(state);
      if (written > limits.maxStateBytes) {
        throw new PresenceRefusedError(
          `A presence state may hold at most ${limits.maxStateBytes} bytes of JSON; one of ${written} bytes was sent (as the server writes it).`,
        );
      }
      entries.push({ id, clock, json, state });
    }
  } catch (error) {
    if (error instanceof PresenceRefusedError) throw error;
    throw new PresenceRefusedError('The AWARENESS update could not be decoded.', { cause: error });
  }
  return { entries, total };
}

function encodeEntries(entries: readonly PresenceEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.id);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.json);
  }
  return encoding.toUint8Array(encoder);
}

/** The presence of one document's clients. `owner` objects are the connections (any object). */
export class PresenceTable {
  readonly awareness: Awareness;
  private readonly ownerOf = new Map<number, object>();
  private readonly idsOf = new Map<object, Set<number>>();
  /** The states the server keeps for owners that have none of their own (see hold). */
  private readonly held = new Map<object, PresenceEntry>();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    doc: Y.Doc,
    private readonly limits: PresenceLimits,
    /** Presence of these ids changed (set, renewed or removed) because of `origin`: relay them. */
    private readonly onChange: (ids: number[], origin: unknown) => void,
  ) {
    this.awareness = new Awareness(doc);
    // y-protocols checks for outdated states on an interval; it must not keep a process alive
    // (a test, a tool) that has nothing else to do.
    (this.awareness as unknown as { _checkInterval?: { unref?: () => void } })._checkInterval?.unref?.();
    // The server is no one in the document: it only relays other people's presence.
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.onUpdate);
  }

  /** Ids with a state now. */
  get size(): number {
    return this.awareness.getStates().size;
  }

  /**
   * Applies a connection's awareness update. Throws PresenceRefusedError, before anything is
   * applied, when it cannot be read, holds a state past the limits, or would give the connection
   * more ids than it may hold. Entries for ids another connection holds are set aside (a client
   * that reconnects keeps its id, and its old connection may not be gone yet), and reported as
   * contested when they are newer than the state held (older or equal ones are echoes); removals
   * of ids nobody holds are dropped.
   */
  apply(owner: object, update: Uint8Array): PresenceOutcome {
    // Removals of ids nobody holds would be dropped below: they are not even kept while reading.
    const { entries, total } = readEntries(update, this.limits, (id) => this.ownerOf.has(id));
    const mine = this.idsOf.get(owner);
    const kept: PresenceEntry[] = [];
    const contested: number[] = [];
    const fresh = new Set<number>();
    for (const entry of entries) {
      const holder = this.ownerOf.get(entry.id);
      if (holder === undefined) {
        if (entry.state === null || entry.id === this.awareness.clientID) continue;
        fresh.add(entry.id);
        if ((mine?.size ?? 0) + fresh.size > this.limits.maxIdsPerPeer) {
          throw new PresenceRefusedError(`A connection may hold at most ${this.limits.maxIdsPerPeer} presence ids.`);
        }
        kept.push(entry);
      } else if (holder !== owner) {
        // y-websocket's provider sends back every presence it receives (each awareness change,
        // remote ones too): an entry no newer than the state held is such an echo, dropped quietly.
        if (entry.clock > (this.awareness.meta.get(entry.id)?.clock ?? -1)) contested.push(entry.id);
      } else {
        kept.push(entry);
      }
    }
    if (!this.idsOf.has(owner)) this.idsOf.set(owner, new Set());
    if (kept.length === total) applyAwarenessUpdate(this.awareness, update, owner);
    else if (kept.length) applyAwarenessUpdate(this.awareness, encodeEntries(kept), owner);
    return { contested };
  }

  /**
   * Applies presence another server relayed for its own clients (it checked them against its
   * limits; these are checked again, but without the per-connection id limit): `owner` stands for
   * that server. Entries for ids someone else here holds are set aside (a client that moved here
   * from that server keeps its id); removals only count for ids `owner` holds. Throws
   * PresenceRefusedError, nothing applied, when the update cannot be read.
   */
  applyRemote(owner: object, update: Uint8Array): void {
    const { entries, total } = readEntries(update, this.limits, (id) => this.ownerOf.get(id) === owner);
    const kept = entries.filter((entry) => {
      const holder = this.ownerOf.get(entry.id);
      if (holder === undefined) return entry.state !== null && entry.id !== this.awareness.clientID;
      return holder === owner;
    });
    if (!this.idsOf.has(owner)) this.idsOf.set(owner, new Set());
    if (kept.length === total) applyAwarenessUpdate(this.awareness, update, owner);
    else if (kept.length) applyAwarenessUpdate(this.awareness, encodeEntries(kept), owner);
  }

  /** Ids whose holder `which` accepts (the ids this server's own clients hold, say). */
  idsHeldBy(which: (owner: object) => boolean): number[] {
    return [...this.ownerOf].filter(([, owner]) => which(owner)).map(([id]) => id);
  }

  /**
   * Gives `owner`, a client with no presence of its own (a plain-text client), the state `state`
   * under a fresh id: the others see it like anyone's, and it goes with remove(owner). The server
   * renews it (every y-protocols client drops a state not renewed for 30 s).
   */
  hold(owner: object, state: Record<string, unknown>): void {
    if (this.held.has(owner)) return;
    // Every id someone holds has a state; the server's own id has none, but is its.
    let id = uint32();
    while (id === this.awareness.clientID || this.awareness.getStates().has(id)) id = uint32();
    const entry: PresenceEntry = { id, clock: 1, json: JSON.stringify(state), state };
    this.held.set(owner, entry);
    if (!this.idsOf.has(owner)) this.idsOf.set(owner, new Set());
    applyAwarenessUpdate(this.awareness, encodeEntries([entry]), owner);
    if (!this.renewTimer) {
      this.renewTimer = setInterval(this.renewHeld, outdatedTimeout / 2);
      this.renewTimer.unref();
    }
  }

  /** Removes every state `owner` holds (it left); the others are told. */
  remove(owner: object): void {
    this.held.delete(owner);
    if (!this.held.size) this.stopRenewing();
    const ids = this.idsOf.get(owner);
    this.idsOf.delete(owner);
    if (ids?.size) removeAwarenessStates(this.awareness, [...ids], owner);
  }

  /** Awareness updates holding every state, each at most `maxBytes` (empty when nobody is present). */
  encodeAll(maxBytes: number): Uint8Array[] {
    return this.encodeParts([...this.awareness.getStates().keys()], maxBytes);
  }

  /** Awareness updates for these ids (their states, or their removal), each at most `maxBytes` unless one state alone is larger. */
  encodeParts(ids: number[], maxBytes: number): Uint8Array[] {
    if (!ids.length) return [];
    const whole = encodeAwarenessUpdate(this.awareness, ids);
    if (whole.length <= maxBytes) return [whole];
    const parts: Uint8Array[] = [];
    let batch: number[] = [];
    let size = 0;
    for (const id of ids) {
      const one = encodeAwarenessUpdate(this.awareness, [id]).length;
      if (batch.length && size + one > maxBytes) {
        parts.push(encodeAwarenessUpdate(this.awareness, batch));
        batch = [];
        size = 0;
      }
      batch.push(id);
      size += one;
    }
    if (batch.length) parts.push(encodeAwarenessUpdate(this.awareness, batch));
    return parts;
  }

  destroy(): void {
    this.stopRenewing();
    this.awareness.off('update', this.onUpdate);
    this.awareness.destroy();
  }

  /** Renews the states kept by hold(): a newer clock, the same state. */
  private readonly renewHeld = (): void => {
    for (const [owner, entry] of this.held) {
      entry.clock++;
      applyAwarenessUpdate(this.awareness, encodeEntries([entry]), owner);
    }
  };

  private stopRenewing(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private readonly onUpdate = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    // One update may name an id more than once (removed, then set again, say): y-protocols lists
    // it under each, in no order, so what counts is whether it has a state once the update is in.
    const changed = [...new Set([...added, ...updated, ...removed])];
    const states = this.awareness.getStates();
    const ids = this.idsOf.get(origin as object);
    for (const id of changed) {
      if (states.has(id) && ids && this.ownerOf.get(id) === undefined) {
        this.ownerOf.set(id, origin as object);
        ids.add(id);
      }
    }
    if (changed.length) this.onChange(changed, origin);
    // Gone means forgotten: no owner, no clock (y-protocols would keep one per id for ever).
    for (const id of changed) {
      if (states.has(id)) continue;
      const holder = this.ownerOf.get(id);
      if (holder !== undefined) this.idsOf.get(holder)?.delete(id);
      this.ownerOf.delete(id);
      this.awareness.meta.delete(id);
    }
  };
}
