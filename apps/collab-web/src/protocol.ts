// The few bytes of PROTOCOL.md the page reads or writes itself, beside what y-websocket's
// provider speaks (types 0-3). The numbers are ours (test/protocol.spec.ts checks them against
// @collab/collab-protocol, which the page cannot bundle: it is written for Node).

/** Message types (first varUint of every message). */
export const MessageType = { Sync: 0, Awareness: 1, Ack: 103, Ping: 104, Pong: 105 } as const;

/** y-protocols sync types (second varUint of a SYNC message). */
export const SyncType = { Step1: 0, Step2: 1, Update: 2 } as const;

/** The name of the Y.Text that holds a document's text, for every client and the server. */
export const TEXT_NAME = 'content';

/** The document `/` opens. */
export const DEFAULT_DOCUMENT = 'temp';

/** Which kind of SYNC message `bytes` is, if it is one (both varUints are one byte for these values). */
export function syncTypeOf(bytes: Uint8Array): number | undefined {
  return bytes.length >= 2 && bytes[0] === MessageType.Sync ? bytes[1] : undefined;
}
