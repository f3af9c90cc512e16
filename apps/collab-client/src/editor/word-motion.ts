// Words for Ctrl-Left / Ctrl-Right, as Intl.Segmenter finds them (granularity 'word'): the
// Unicode rules, so "don't" and "3.14" are one word each and Chinese or Japanese text splits
// into words rather than into characters or one long run. Offsets are within one line.

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** The start of the word that begins before `offset` nearest to it, if any (from inside a word: its start). */
export function wordStartBefore(line: string, offset: number): number | undefined {
  let found: number | undefined;
  for (const { index, isWordLike } of segmenter.segment(line)) {
    if (index >= offset) break;
    if (isWordLike) found = index;
  }
  return found;
}

/** The end of the first word that ends after `offset`, if any (from inside a word: its end). */
export function wordEndAfter(line: string, offset: number): number | undefined {
  for (const { segment, index, isWordLike } of segmenter.segment(line)) {
    const end = index + segment.length;
    if (isWordLike && end > offset) return end;
  }
  return undefined;
}
