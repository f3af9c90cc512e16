// A relayed update goes to every client of a document as the same payload: each transport frames
// it (TCP: a length prefix; WebSocket: a frame header) once, not once per client.

/** How many recent payloads are remembered: a relay sends one, or a few, to every client in turn. */
const REMEMBERED = 8;

/**
 * `frame` remembered for the last few payloads: the same payload sent to client after client gets
 * the same buffer, made once. (A WeakMap remembered every payload still alive, at the cost of an
 * entry for the garbage collector to trace per message, ACKs included: about 1% of the CPU.)
 */
export function frameOnce(frame: (payload: Uint8Array) => Buffer): (payload: Uint8Array) => Buffer {
  const payloads: (Uint8Array | undefined)[] = new Array<undefined>(REMEMBERED).fill(undefined);
  const frames: (Buffer | undefined)[] = new Array<undefined>(REMEMBERED).fill(undefined);
  let next = 0;
  return (payload) => {
    for (let i = 0; i < REMEMBERED; i++) if (payloads[i] === payload) return frames[i]!;
    const bytes = frame(payload);
    payloads[next] = payload;
    frames[next] = bytes;
    next = (next + 1) % REMEMBERED;
    return bytes;
  };
}
