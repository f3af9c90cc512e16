// A relayed update goes to every client of a document as the same payload: each transport frames
// it (TCP: a length prefix; WebSocket: a frame header) once, not once per client.

/**
 * `frame` remembered per payload: the same payload gets the same buffer, made once. Entries go
 * when the payload does (a WeakMap).
 */
export function frameOnce(frame: (payload: Uint8Array) => Buffer): (payload: Uint8Array) => Buffer {
  const framed = new WeakMap<Uint8Array, Buffer>();
  return (payload) => {
    let bytes = framed.get(payload);
    if (!bytes) {
      bytes = frame(payload);
      framed.set(payload, bytes);
    }
    return bytes;
  };
}
