// What the core needs of a plain-text connection (nc, telnet, the assignment's client.py): bytes
// in, text out, no framing and no messages. The transport takes out whatever belongs to it (telnet
// commands, say) and hands the rest of the bytes to the TextConnection that
// CollabCore.connectText returns; the session cuts them into lines.

/** One plain-text client connection, as the core sees it. */
export interface TextTransport {
  /** The remote address, normalised (`127.0.0.1`, `::1`): per-address limits count by it. */
  readonly remoteAddress: string;
  /** The remote endpoint as logs show it: `127.0.0.1:51234`, `[::1]:51234`. */
  readonly remoteLabel: string;
  /** Queues text for the client (UTF-8 on the wire). */
  write(text: string): void;
  /** Writes `farewell` (a line, if given) and closes; the transport then reports closed() once. Idempotent. */
  close(farewell?: string): void;
  /** Stops reading from the client (rate limits, a document still loading); resume() reads again. */
  pause(): void;
  resume(): void;
}

/** The core's side of a plain-text transport: what the transport calls. */
export interface TextConnection {
  /** Bytes from the client, as they came (cut anywhere: the session finds the lines). */
  receive(bytes: Uint8Array): void;
  /** The client will send nothing more (it closed its side): a last line without a line break counts. */
  ended(): void;
  /** The transport has closed (either side); call exactly once. */
  closed(): void;
  /** The client as logs show it: `text (127.0.0.1:51234)` once it is in, the endpoint before. */
  readonly label: string;
}
