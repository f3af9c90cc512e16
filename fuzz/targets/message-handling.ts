// Fuzz target 3: the collab server's message handling, through the same public entry points
// the app uses (CollabCore.connect and a Transport, over a DocumentStorage). Each input is one
// client connection: a HELLO (valid, wrong, mutated, too large, or a huge frame header), then
// SYNC, AWARENESS and other frames built from a real Y.Doc's edits (genuine updates, diffs,
// state vectors, presence), some that change more than the text or hold presence past its
// limits, some mutated at the Yjs or frame level, in random chunkings with random pauses, and
// sometimes the client leaves half way (while its document still loads). Two well-behaved
// clients share the document the whole time: an editor whose edits cross the input, and an
// observer that only listens. message-handling-checker.ts checks each input against what
// message-handling-oracle.ts works out from the bytes alone; message-handling-input.ts makes them.
//
// Two runs: `message-handling` (64 KiB frames, files on disk, few document slots, so a slot a
// client leaves behind shows at once) and `small-frames` (1 KiB frames, memory, long pastes,
// so states and relays go out in parts and every joiner must still get the whole document).
import fc from 'fast-check';
import type { FuzzTarget } from '../support/fuzz-target';
import { bulkInsertArb, docOpArb } from '../support/yjs-samples';
import { MESSAGE_HANDLING_KNOWN_ISSUES } from '../known-issues';
import { MessageHandlingChecker } from './message-handling-checker';
import { MAIN_PROFILE, SMALL_FRAMES_PROFILE, inputArb, type MessageHandlingInput } from './message-handling-input';

/** The server's message handling: answers or ERROR and close, nothing escapes, documents stay whole and stored. */
export const messageHandlingTarget: FuzzTarget<MessageHandlingInput> = {
  name: 'message-handling',
  summary:
    'HELLO then valid, mutated and random frames (real Yjs updates) through CollabCore.connect and an in-memory transport, over a DocumentStore',
  input: inputArb(MAIN_PROFILE.settings, docOpArb),
  knownIssues: MESSAGE_HANDLING_KNOWN_ISSUES,
  open: async () => new MessageHandlingChecker(MAIN_PROFILE),
};

/** The same with 1 KiB frames and long pastes: states, step 2s and relays larger than a frame. */
export const smallFramesTarget: FuzzTarget<MessageHandlingInput> = {
  name: 'small-frames',
  summary:
    'message-handling with 1 KiB frames, long pastes and memory storage: step 2 and relays in parts, every joiner gets the whole document',
  input: inputArb(
    SMALL_FRAMES_PROFILE.settings,
    fc.oneof({ weight: 3, arbitrary: docOpArb }, { weight: 2, arbitrary: bulkInsertArb(900) }),
  ),
  knownIssues: MESSAGE_HANDLING_KNOWN_ISSUES,
  open: async () => new MessageHandlingChecker(SMALL_FRAMES_PROFILE),
};
