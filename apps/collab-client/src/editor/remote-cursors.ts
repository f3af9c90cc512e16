// Other people in the document, from awareness: who they are, their colour, and where their
// cursor is. Cursors travel as Yjs relative positions (PROTOCOL.md, AWARENESS), so a cursor
// stays on the character it was on whatever edits reach us before or after it.
import * as Y from 'yjs';
import type { DocumentLayout } from './text-layout';
import { compareRows, rowDistance, type RowRef } from './viewport';

/** Colours handed out to users (hex, as y-websocket clients use them). */
export const PALETTE = ['#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d19a66', '#ff79c6'] as const;

/** Longest name shown; a peer's name is someone else's input. */
export const MAX_NAME_CHARS = 24;

/** The same name gets the same colour in every session and on every screen (FNV-1a hash). */
export function colorForName(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** The awareness cursor field: anchor and head as Yjs relative-position JSON. */
export interface AwarenessCursor {
  anchor: unknown;
  head: unknown;
}

/**
 * Encodes a cursor at `head` for the awareness `cursor` field, with a selection reaching to
 * `anchor` when that differs. Both stick to the character on their left (assoc -1), as the
 * editor's own cursor does, so peers draw them where their owner sees them when someone types
 * right at them.
 */
export function encodeCursor(text: Y.Text, head: number, anchor = head): AwarenessCursor {
  const json = (index: number) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, index, -1));
  const headJson = json(head);
  return { anchor: anchor === head ? headJson : json(anchor), head: headJson };
}

/** The index in `text` a relative-position JSON points at now, or undefined if it is not in `text`. */
export function decodePosition(json: unknown, doc: Y.Doc, text: Y.Text): number | undefined {
  if (!json || typeof json !== 'object') return undefined;
  try {
    const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), doc);
    return abs && abs.type === text ? abs.index : undefined;
  } catch {
    return undefined; // a malformed position from a peer hides that cursor, nothing more
  }
}

/** Someone else in the document. */
export interface Peer {
  readonly clientId: number;
  readonly name: string;
  readonly color: string;
  /** Where their cursor (head) is, when they shared one. */
  readonly index?: number;
  /** The other end of their selection, when they have one. */
  readonly anchor?: number;
}

/** Strips what a terminal would interpret (escape sequences, controls) from a peer's name and shortens it. */
export function safeName(name: unknown): string {
  const text = typeof name === 'string' ? name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim() : '';
  const chars = [...text];
  return chars.length > MAX_NAME_CHARS ? `${chars.slice(0, MAX_NAME_CHARS - 1).join('')}…` : text || 'anonymous';
}

/** A hex colour from a peer, or one from the palette if it sent none we can draw. */
export function safeColor(color: unknown, clientId: number): string {
  return typeof color === 'string' && /^#[0-9a-f]{6}$/i.test(color) ? color : PALETTE[clientId % PALETTE.length]!;
}

/** Everyone but us with a presence state, sorted by name so the status line does not shuffle. */
export function peersOf(states: Map<number, Record<string, unknown>>, localClientId: number, doc: Y.Doc, text: Y.Text): Peer[] {
  const peers: Peer[] = [];
  for (const [clientId, state] of states) {
    if (clientId === localClientId || !state) continue;
    const user = (state.user ?? {}) as { name?: unknown; color?: unknown };
    const cursor = state.cursor as Partial<AwarenessCursor> | undefined;
    const index = cursor ? decodePosition(cursor.head, doc, text) : undefined;
    const anchor = cursor && index !== undefined ? decodePosition(cursor.anchor, doc, text) : undefined;
    const peer: Peer = { clientId, name: safeName(user.name), color: safeColor(user.color, clientId), index };
    peers.push(anchor !== undefined && anchor !== index ? { ...peer, anchor } : peer);
  }
  return peers.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId);
}

/** A peer's cursor on screen: cell (x, y) within the text area. */
export interface PlacedCursor {
  readonly x: number;
  readonly y: number;
  readonly name: string;
  readonly color: string;
}

/** Where the peers' cursors fall on a text area of `height` rows starting at `top`; off-screen ones are left out. */
export function placeCursors(layout: DocumentLayout, top: RowRef, height: number, peers: readonly Peer[]): PlacedCursor[] {
  const placed: PlacedCursor[] = [];
  for (const peer of peers) {
    if (peer.index === undefined) continue;
    const at = layout.locate(layout.snap(peer.index));
    const row: RowRef = { line: at.line, row: at.row };
    if (compareRows(row, top) < 0) continue;
    const y = rowDistance(layout, top, row, height);
    if (y >= height) continue;
    placed.push({ x: Math.min(at.col, layout.columns - 1), y, name: peer.name, color: peer.color });
  }
  return placed;
}
