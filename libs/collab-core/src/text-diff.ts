// The changes that turn one text into another, as diff-match-patch finds them (Myers' diff with
// semantic cleanup, so a one-word change stays one small change at its place, and a line-level
// first pass on long texts). Its time limit keeps a pathological pair (two unrelated big texts)
// from holding the event loop: past it the diff is coarser, never wrong.
//
// Changes never split a surrogate pair: Y.Text counts UTF-16 code units, and half a pair
// inserted or deleted would leave a character that UTF-8 (the file, the wire) cannot hold.

import { cleanupSemantic, DIFF_DELETE, DIFF_EQUAL, DIFF_INSERT, makeDiff } from '@sanity/diff-match-patch';

/** `before` with `[index, index + deleteCount)` replaced by `insert`; indexes are in `before`. */
export interface TextChange {
  index: number;
  deleteCount: number;
  insert: string;
}

/** Longest a diff may take, in seconds, before it settles for a coarser (still exact) answer. */
export const DIFF_TIME_LIMIT_SECONDS = 0.5;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Whether a change boundary at `index` of `text` falls between the two halves of a pair. */
function splitsPair(text: string, index: number): boolean {
  return index > 0 && index < text.length && isHighSurrogate(text.charCodeAt(index - 1)) && isLowSurrogate(text.charCodeAt(index));
}

/**
 * The changes from `before` to `after`, in ascending order, none touching the next (an equal
 * stretch lies between two); empty when the texts are equal. Applied from the last to the first,
 * each index stays valid.
 */
export function diffText(before: string, after: string): TextChange[] {
  if (before === after) return [];
  const diffs = cleanupSemantic(makeDiff(before, after, { timeout: DIFF_TIME_LIMIT_SECONDS, checkLines: true }));
  const changes: TextChange[] = [];
  let index = 0;
  let current: TextChange | null = null;
  for (const [op, text] of diffs) {
    if (op === DIFF_EQUAL) {
      if (current) changes.push(current);
      current = null;
      index += text.length;
      continue;
    }
    current ??= { index, deleteCount: 0, insert: '' };
    if (op === DIFF_DELETE) {
      current.deleteCount += text.length;
      index += text.length;
    } else if (op === DIFF_INSERT) {
      current.insert += text;
    }
  }
  if (current) changes.push(current);
  const result = wholeCharacters(before, changes);
  // diff-match-patch works on UTF-16 code units and, around surrogate pairs that share a half,
  // can report as equal a character that is not (diffing '𐐀𘨤' to '𐐁𝘤' keeps '𝘤' "equal"):
  // what it says is checked, and past a wrong answer the change is the one stretch between the
  // texts' common start and end, coarser but exact.
  return applyTextChanges(before, result) === after ? result : wholeCharacters(before, [middleChange(before, after)]);
}

/** The one change that replaces what lies between the common start and the common end of two different texts. */
function middleChange(before: string, after: string): TextChange {
  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return { index: start, deleteCount: before.length - end - start, insert: after.slice(start, after.length - end) };
}

/** Widens every change that would split a surrogate pair of `before` to take the whole pair, merging neighbours it then touches. */
function wholeCharacters(before: string, changes: TextChange[]): TextChange[] {
  const out: TextChange[] = [];
  for (const change of changes) {
    let { index, deleteCount, insert } = change;
    if (splitsPair(before, index)) {
      index--;
      deleteCount++;
      insert = before[index] + insert;
    }
    const end = index + deleteCount;
    if (splitsPair(before, end)) {
      deleteCount++;
      insert += before[end];
    }
    const last = out[out.length - 1];
    if (last && last.index + last.deleteCount >= index) {
      // Touching (or, after widening, overlapping by the one shared unit): one change.
      const lastEnd = last.index + last.deleteCount;
      const overlap = lastEnd - index;
      last.insert += overlap > 0 ? insert.slice(overlap) : before.slice(lastEnd, index) + insert;
      last.deleteCount = Math.max(lastEnd, index + deleteCount) - last.index;
      continue;
    }
    out.push({ index, deleteCount, insert });
  }
  return out;
}

/** `before` with `changes` (as diffText returns them) applied. */
export function applyTextChanges(before: string, changes: readonly TextChange[]): string {
  let text = before;
  for (let i = changes.length - 1; i >= 0; i--) {
    const { index, deleteCount, insert } = changes[i];
    text = text.slice(0, index) + insert + text.slice(index + deleteCount);
  }
  return text;
}
