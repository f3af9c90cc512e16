// The soak's edits, chosen so that "every acknowledged edit is present" can be checked on any
// text: an edit either inserts a unique token like ⟨c3-17⟩ (never deleted afterwards) at a place
// that is not inside another token, or inserts / deletes filler characters (a delete only ever
// removes filler). Concurrent edits cannot split a token either: Yjs inserts one token as one
// item, and a concurrent insert lands between items, never inside one it has not seen.
import type * as Y from 'yjs';

export const TOKEN_OPEN = '⟨';
export const TOKEN_CLOSE = '⟩';
const TOKEN_PATTERN = /⟨[^⟨⟩]*⟩/g;
const FILLER = 'abcdefghijklmnopqrstuvwxyz     \n';

/** A small, seedable pseudo-random generator (mulberry32), so a run can be repeated. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The token client `client` writes as its `seq`th. */
export function tokenFor(client: number, seq: number): string {
  return `${TOKEN_OPEN}c${client}-${seq}${TOKEN_CLOSE}`;
}

/** Start and end (exclusive) of every token in the text. */
export function tokenSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const m of text.matchAll(TOKEN_PATTERN)) spans.push([m.index!, m.index! + m[0].length]);
  return spans;
}

/** How many times each token occurs in the text. */
export function countTokens(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(TOKEN_PATTERN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return counts;
}

/** Moves `pos` to the end of the token it falls inside, if any (a boundary is not inside). */
export function outsideTokens(spans: ReadonlyArray<[number, number]>, pos: number): number {
  for (const [start, end] of spans) if (start < pos && pos < end) return end;
  return pos;
}

/** Random filler text of 1..maxLength characters. */
export function fillerText(random: Random, maxLength: number): string {
  let s = '';
  const n = random.int(1, Math.max(1, maxLength));
  for (let i = 0; i < n; i++) s += FILLER[random.int(0, FILLER.length - 1)];
  return s;
}

export type EditKind = 'token' | 'filler-insert' | 'filler-delete';

/** What one edit did; `token` is set for token inserts. */
export interface EditResult {
  kind: EditKind;
  token?: string;
}

/** How big and how likely the edits are. */
export interface EditMix {
  /** Probability that an edit inserts a token. */
  tokenShare: number;
  /** Probability that a filler edit deletes (when there is filler to delete). */
  deleteShare: number;
  /** Longest filler insert. */
  maxFillerInsert: number;
  /** Longest filler delete. */
  maxFillerDelete: number;
}

export const DEFAULT_MIX: EditMix = { tokenShare: 0.5, deleteShare: 0.45, maxFillerInsert: 12, maxFillerDelete: 8 };

/**
 * Makes one random edit in `text` (one Yjs transaction). `nextToken` is called only when the
 * edit inserts a token. Deletes remove a range of filler that holds no token character.
 */
export function randomEdit(text: Y.Text, random: Random, mix: EditMix, nextToken: () => string): EditResult {
  const current = text.toString();
  const spans = tokenSpans(current);
  if (random.chance(mix.tokenShare)) {
    const token = nextToken();
    text.insert(outsideTokens(spans, random.int(0, current.length)), token);
    return { kind: 'token', token };
  }
  if (current.length > 0 && random.chance(mix.deleteShare)) {
    // The filler run around a random position: between the tokens before and after it.
    const pos = random.int(0, current.length - 1);
    let runStart = 0;
    let runEnd = current.length;
    let inToken = false;
    for (const [start, end] of spans) {
      if (start <= pos && pos < end) {
        inToken = true;
        break;
      }
      if (end <= pos) runStart = end;
      else if (start > pos) {
        runEnd = start;
        break;
      }
    }
    if (!inToken && runEnd > runStart) {
      const length = Math.min(random.int(1, mix.maxFillerDelete), runEnd - pos);
      if (length > 0) {
        text.delete(pos, length);
        return { kind: 'filler-delete' };
      }
    }
  }
  text.insert(outsideTokens(spans, random.int(0, current.length)), fillerText(random, mix.maxFillerInsert));
  return { kind: 'filler-insert' };
}
