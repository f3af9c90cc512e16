// Who is in the document, from awareness: the same fields as the terminal editor and
// y-codemirror.next use (`user: { name, color, colorLight }`), so a browser and a terminal user
// see each other. A peer's name and colour are someone else's input: checked before use.

/** Colours handed out to users: the terminal editor's palette, so a name has the same colour there and here. */
export const PALETTE = ['#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d19a66', '#ff79c6'] as const;

/** Longest name shown. */
export const MAX_NAME_CHARS = 32;

/** The same name gets the same colour in every session and every editor (FNV-1a, as the terminal editor). */
export function colorForName(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** The awareness `user` field for `name`: its colour, and a light one for selections. */
export function userFor(name: string): { name: string; color: string; colorLight: string } {
  const color = colorForName(name);
  return { name, color, colorLight: `${color}33` };
}

/** A peer's name made safe to show: no control characters, not too long, never empty. */
export function safeName(name: unknown): string {
  const text = typeof name === 'string' ? name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim() : '';
  const chars = [...text];
  return chars.length > MAX_NAME_CHARS ? `${chars.slice(0, MAX_NAME_CHARS - 1).join('')}…` : text || 'anonymous';
}

/** A peer's colour if it is a plain hex colour, else one from the palette (it ends up in a style attribute). */
export function safeColor(color: unknown, clientId: number, alpha = false): string {
  const pattern = alpha ? /^#[0-9a-f]{6}([0-9a-f]{2})?$/i : /^#[0-9a-f]{6}$/i;
  return typeof color === 'string' && pattern.test(color) ? color : PALETTE[clientId % PALETTE.length]!;
}

/** Someone in the document. */
export interface Person {
  readonly clientId: number;
  readonly name: string;
  readonly color: string;
  readonly self: boolean;
}

/** A Yjs relative position as y-codemirror.next reads it: every field present (null when absent). */
interface RelativePositionJson {
  type: { client: number; clock: number } | null;
  tname: string | null;
  item: { client: number; clock: number } | null;
  assoc: number;
}

function idOf(value: unknown): { client: number; clock: number } | null {
  if (!value || typeof value !== 'object') return null;
  const { client, clock } = value as { client?: unknown; clock?: unknown };
  return Number.isSafeInteger(client) && Number.isSafeInteger(clock) ? { client: client as number, clock: clock as number } : null;
}

/**
 * A relative position from a peer in the shape y-codemirror.next reads, or null. It passes the
 * JSON straight to Yjs, which takes a missing field for a present one: `Y.relativePositionToJSON`
 * leaves null fields out (the terminal editor sends that), and a position naming nothing throws
 * inside CodeMirror, which then turns off every remote cursor.
 */
export function safeRelativePosition(json: unknown): RelativePositionJson | null {
  if (!json || typeof json !== 'object') return null;
  const raw = json as Record<string, unknown>;
  const type = idOf(raw.type);
  const item = idOf(raw.item);
  const tname = typeof raw.tname === 'string' ? raw.tname : null;
  if (!item && !type && tname === null) return null;
  return { type, tname, item, assoc: Number.isSafeInteger(raw.assoc) ? (raw.assoc as number) : 0 };
}

/**
 * Makes every peer's state safe in place (name, colour, light colour, cursor), so that whatever
 * reads the awareness states next (the editor's remote cursors) gets only checked values.
 */
export function sanitizeStates(states: Map<number, Record<string, unknown>>, localClientId: number): void {
  for (const [clientId, state] of states) {
    if (clientId === localClientId || !state) continue;
    const user = (state.user && typeof state.user === 'object' ? state.user : {}) as Record<string, unknown>;
    const color = safeColor(user.color, clientId);
    const colorLight = safeColor(user.colorLight, clientId, true) === user.colorLight ? user.colorLight : `${color}33`;
    state.user = { name: safeName(user.name), color, colorLight };
    if (state.cursor !== undefined && state.cursor !== null) {
      const cursor = state.cursor as { anchor?: unknown; head?: unknown };
      const anchor = safeRelativePosition(cursor.anchor);
      const head = safeRelativePosition(cursor.head);
      state.cursor = anchor && head ? { anchor, head } : null;
    }
  }
}

/** Everyone with a presence state, us first, then by name. */
export function peopleOf(states: Map<number, Record<string, unknown>>, localClientId: number): Person[] {
  const people: Person[] = [];
  for (const [clientId, state] of states) {
    if (!state) continue;
    const user = (state.user ?? {}) as { name?: unknown; color?: unknown };
    people.push({ clientId, name: safeName(user.name), color: safeColor(user.color, clientId), self: clientId === localClientId });
  }
  return people.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name) || a.clientId - b.clientId);
}
