// ^F: finding text in the document. Smart case, as in vim's smartcase and most editors: a
// query in lower case finds any case, one with a capital finds that case only.

/** A match: [from, to) in the text, and whether the search went round past the end to find it. */
export interface Match {
  readonly from: number;
  readonly to: number;
  readonly wrapped: boolean;
}

const SYNTAX = /[.*+?^${}()|[\]\\]/g;

/** The first match of `query` at or after `from`, else the first one from the top (wrapped). */
export function findNext(text: string, query: string, from: number): Match | undefined {
  if (query === '') return undefined;
  const caseless = query === query.toLowerCase();
  // A regular expression for its Unicode case folding; every character of the query is literal.
  const pattern = new RegExp(query.replace(SYNTAX, '\\$&'), caseless ? 'giu' : 'gu');
  pattern.lastIndex = Math.max(0, Math.min(from, text.length));
  const ahead = pattern.exec(text);
  if (ahead) return { from: ahead.index, to: ahead.index + ahead[0].length, wrapped: false };
  pattern.lastIndex = 0;
  const wrapped = pattern.exec(text);
  return wrapped ? { from: wrapped.index, to: wrapped.index + wrapped[0].length, wrapped: true } : undefined;
}
