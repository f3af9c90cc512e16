// Bugs fuzzing found in code outside fuzz/ that wait for their fix. Each has a failing
// regression test; until it passes, fuzz runs count the inputs that hit the bug instead of
// stopping at the first one, so they keep looking for new bugs (`--strict` stops at them).
// Delete an entry once its regression test passes.
import type { KnownIssue } from './support/fuzz-target';

/**
 * Known issues of the message handling targets. None is open: those found so far (a crash on an
 * undecodable state vector, refused or pending updates not stored, presence left behind after a
 * reconnect or a refused AWARENESS update, pending structs sent to new clients, presence sent in
 * messages past maxFrameBytes, a surrogate pair split by an update that adds nothing) are fixed, each with its regression test in
 * fuzz/test/message-handling.fuzz.spec.ts or libs/collab-core/src/collab-core.spec.ts.
 */
export const MESSAGE_HANDLING_KNOWN_ISSUES: readonly KnownIssue[] = [];
