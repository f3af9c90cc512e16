// Bugs fuzzing found in code outside fuzz/ that wait for their fix. Each has a failing
// regression test; until it passes, fuzz runs count the inputs that hit the bug instead of
// stopping at the first one, so they keep looking for new bugs (`--strict` stops at them).
// Delete an entry once its regression test passes.
import type { KnownIssue } from './support/fuzz-target';

const REGRESSIONS = 'apps/collab-server/test/message-handling.fuzz.spec.ts';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Known issues of the message handling target. */
export const MESSAGE_HANDLING_KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: 'step1-bad-state-vector-crashes-server',
    regressionTest: `${REGRESSIONS}: 'answers a SYNC step 1 whose state vector cannot be decoded with ERROR 3'`,
    matches: (error) => messageOf(error).includes('(thrown by SharedDocument.stepTwoFor)'),
  },
  {
    id: 'refused-update-partly-applied',
    regressionTest: `${REGRESSIONS}: 'leaves the document unchanged when it refuses an update with ERROR 3'`,
    matches: (error) => messageOf(error).includes('an update refused with ERROR 3 ("the document is unchanged") changed the document anyway'),
  },
  {
    // SharedDocument.applyChange decides whether an update must be stored by comparing
    // doc.store.pendingStructs before and after by identity; Yjs merges new pending structs
    // into the existing object, so such an update is ACKed but never appended.
    id: 'pending-update-acked-not-stored',
    regressionTest: `${REGRESSIONS}: 'stores an acknowledged update that waits behind another pending one'`,
    matches: (error) => messageOf(error).includes('an update accepted (and acknowledged) grew its pending structs in place but was not handed to the store'),
  },
  {
    // Awareness reports a state as "updated", not "added", when it has met the client id
    // before (a client that reconnects, or one that said "gone" first); SharedDocument only
    // remembers "added" ids, so those states stay after the client leaves.
    id: 'presence-set-by-update-not-removed',
    regressionTest: `${REGRESSIONS}: 'removes the presence of a client that reconnects with the same client id when it leaves'`,
    matches: (error) => {
      const leftover = /outlived the client that set it \(announced as added: (\d+), only as updated: (\d+), never announced: (\d+)\), after (.*)/.exec(messageOf(error));
      if (!leftover || leftover[1] !== '0' || leftover[2] === '0') return false;
      return leftover[3] === '0' || leftover[4].startsWith('ERROR 3 (The AWARENESS update could not be decoded');
    },
  },
  {
    // applyAwarenessUpdate sets states entry by entry and reports them only at the end, so an
    // update that fails half way leaves states nobody was told about (ERROR 3 went out).
    id: 'refused-awareness-partly-applied',
    regressionTest: `${REGRESSIONS}: 'leaves presence unchanged when it refuses an AWARENESS update with ERROR 3'`,
    matches: (error) =>
      /outlived the client that set it \(announced as added: 0, only as updated: 0, never announced: [1-9]\d*\), after ERROR 3 \(The AWARENESS update could not be decoded/.test(
        messageOf(error),
      ),
  },
  {
    // Yjs accepts some corrupt updates without an error and keeps their structs as pending;
    // Y.encodeStateAsUpdate sends pending structs along, and a new client integrates them
    // differently (a state vector ahead of the server's), so it cannot apply the next real
    // edits of that client id. Seen only while the server holds pending structs.
    id: 'pending-structs-poison-new-clients',
    regressionTest: `${REGRESSIONS}: 'lets a client that joins after a corrupt update still apply the edits that follow'`,
    matches: (error) => /(step 2 for a new client gives|a fresh client syncs to) .*, the server \(holding pending structs\)/s.test(messageOf(error)),
  },
];
