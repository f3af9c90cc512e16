// What the core needs of a connection, whatever carries it (TCP with 4-byte frames, a WebSocket,
// an in-memory pipe in tests). The core hands it whole encoded messages (PROTOCOL.md payloads);
// the transport adds its own framing. Calls the other way go to the Connection that
// CollabCore.connect returns: receive() each message, activity() for any bytes, closed() once.

import type { ErrorCode } from '@collab/collab-protocol';

/** Why the server ends a conversation: sent to the client where the transport can say it (ERROR on TCP, a close code on WebSocket). */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
}

/** One client connection, as the core sees it. */
export interface Transport {
  /** The remote address, normalised (`127.0.0.1`, `::1`): per-address limits count by it. */
  readonly remoteAddress: string;
  /** The remote endpoint as logs show it: `127.0.0.1:51234`, `[::1]:51234`. */
  readonly remoteLabel: string;
  /** Queues one encoded message; messages queued in one tick may go out in one write. */
  send(payload: Uint8Array): void;
  /** Sends the refusal (if any) and closes; the transport then reports closed() once. Idempotent. */
  close(refusal?: Refusal): void;
  /**
   * Stops reading from the client (rate limits); resume() reads again. Messages already read may
   * still be handed to receive(): the session keeps them, unhandled, until it resumes.
   */
  pause(): void;
  resume(): void;
}

/** The core's side of a transport: what the transport calls. */
export interface Connection {
  /** One whole message from the client. */
  receive(payload: Uint8Array): void;
  /** Bytes arrived (even a partial message): keeps the idle timeout from firing. */
  activity(): void;
  /** The transport has closed (either side); call exactly once. */
  closed(): void;
  /** The transport found the client's bytes unusable (a bad or oversized frame): the session ends with this ERROR. */
  fail(code: ErrorCode, message: string): void;
  /** Largest message the client may send now (smaller before HELLO): the transport refuses a larger one before buffering it. */
  readonly maxMessageBytes: number;
  /** The client as logs show it: `ann (127.0.0.1:51234)` once it said HELLO, the endpoint before. */
  readonly label: string;
}
