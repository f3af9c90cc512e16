import { BadDocumentNameError } from './errors';

/** The document a client opens when it names none; the server stores it as `temp.txt`. */
export const DEFAULT_DOCUMENT = 'temp';

/** Name of the Y.Text that holds a document's text: every client and the server use it. */
export const TEXT_NAME = 'content';

/** Longest document name PROTOCOL.md allows, in characters (all ASCII, so also bytes). */
export const MAX_DOCUMENT_NAME_LENGTH = 64;

// ASCII only, no separators, no leading dot: a valid name can never climb out of the data
// directory ('..'), hide a file, or differ between file systems' Unicode normalisations.
const ALLOWED = /^[A-Za-z0-9._-]+$/;

/** Returns `name` unchanged if PROTOCOL.md allows it, else throws BadDocumentNameError (ERROR 6) saying why. */
export function validateDocumentName(name: string): string {
  if (typeof name !== 'string') throw new BadDocumentNameError(String(name), 'it must be a string.');
  if (name.length === 0) throw new BadDocumentNameError(name, 'it is empty.');
  if (name.length > MAX_DOCUMENT_NAME_LENGTH) {
    throw new BadDocumentNameError(name, `it is ${name.length} characters long, and at most ${MAX_DOCUMENT_NAME_LENGTH} are allowed.`);
  }
  if (!ALLOWED.test(name)) {
    throw new BadDocumentNameError(name, 'only the characters A-Z a-z 0-9 . _ - are allowed.');
  }
  if (name.startsWith('.')) throw new BadDocumentNameError(name, 'it must not start with a dot.');
  return name;
}

/** Whether PROTOCOL.md allows `name` as a document name; for callers that only need a yes or no. */
export function isValidDocumentName(name: string): boolean {
  try {
    validateDocumentName(name);
    return true;
  } catch {
    return false;
  }
}
