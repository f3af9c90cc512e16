import { BadDocumentNameError, DEFAULT_DOCUMENT, ErrorCode, isValidDocumentName, validateDocumentName } from './index';

describe('validateDocumentName', () => {
  const accepted: Array<[string, string]> = [
    ['the default document', DEFAULT_DOCUMENT],
    ['one character', 'a'],
    ['every allowed character class', 'Notes_2024-01.v2'],
    ['a dot that is not the first character', 'a.b'],
    ['two dots after the first character', 'a..b'],
    ['a leading dash', '-draft'],
    ['a leading underscore', '_private'],
    ['exactly 64 characters', 'x'.repeat(64)],
    ['Windows device name NUL (plain characters; the store adds .txt)', 'NUL'],
  ];

  const refused: Array<[string, string, RegExp]> = [
    ['an empty name', '', /empty/],
    ['65 characters', 'x'.repeat(65), /65 characters long, and at most 64/],
    ['a parent-directory escape', '../x', /must not start with a dot|only the characters/],
    ['a slash', 'a/b', /only the characters/],
    ['a backslash', 'a\\b', /only the characters/],
    ['a leading dot (hidden file)', '.hidden', /must not start with a dot/],
    ['a lone dot', '.', /must not start with a dot/],
    ['two dots', '..', /must not start with a dot/],
    ['a space', 'my notes', /only the characters/],
    ['a NUL character', 'a\u0000b', /only the characters/],
    ['a newline', 'a\nb', /only the characters/],
    ['a colon (Windows drive / stream)', 'c:x', /only the characters/],
    ['non-ASCII letters', 'zoë', /only the characters/],
    ['an emoji', '📝', /only the characters/],
    ['a fullwidth solidus that looks like a slash', 'a／b', /only the characters/],
    ['a trailing newline the regex end anchor might forgive', 'temp\n', /only the characters/],
  ];

  it.each(accepted)('accepts %s', (_name, name) => {
    expect(validateDocumentName(name)).toBe(name);
    expect(isValidDocumentName(name)).toBe(true);
  });

  it.each(refused)('refuses %s with BadDocumentNameError (ERROR 6)', (_name, name, reason) => {
    let caught: unknown;
    try {
      validateDocumentName(name);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BadDocumentNameError);
    expect(caught).toMatchObject({
      code: 'COLLAB_ERR_BAD_DOCUMENT_NAME',
      errorCode: ErrorCode.BadDocumentName,
      documentName: name,
    });
    expect((caught as Error).message).toMatch(reason);
    expect((caught as Error).message).toMatch(/^The document name .*\.$/s);
    expect(isValidDocumentName(name)).toBe(false);
  });

  it('quotes at most 80 characters of a huge name, since the sentence goes back to the client', () => {
    expect(() => validateDocumentName('y'.repeat(100_000))).toThrow(/^The document name "y{80}…" is not allowed/);
  });

  it('refuses a value that is not a string, for callers outside TypeScript', () => {
    expect(() => validateDocumentName(undefined as unknown as string)).toThrow(BadDocumentNameError);
  });
});
