import { FrameDecoder, type FrameDecoderOptions } from './frame-decoder';
import { FramingError } from './errors';

/**
 * Reads frames from a byte stream (e.g. a net.Socket) and calls onFrame for each payload.
 * On a FramingError (including a stream that ends mid-frame) it calls onError once and stops
 * decoding; the stream is left flowing so it can still reach its end and close. Returns a
 * function that detaches the listeners (idempotent; bytes of a partial frame are dropped).
 * Exceptions thrown by onFrame propagate to the stream's emitter, as with any 'data' listener.
 */
export function readFrames(
  stream: NodeJS.ReadableStream,
  onFrame: (payload: Buffer) => void,
  onError: (err: FramingError) => void,
  options: FrameDecoderOptions = {},
): () => void {
  const decoder = new FrameDecoder(options);
  let attached = true;

  const detach = (): void => {
    if (!attached) return;
    attached = false;
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
  };

  const fail = (err: FramingError): void => {
    if (!attached) return;
    detach();
    onError(err);
  };

  // onFrame may detach while a chunk still holds more frames; those must not be delivered.
  const deliver = (payload: Buffer): void => {
    if (attached) onFrame(payload);
  };

  // Guards below: an emit already under way still calls a listener removed during it.
  function onData(chunk: Buffer | string): void {
    if (!attached) return;
    if (typeof chunk === 'string') {
      throw new TypeError('readFrames needs a byte stream; do not call setEncoding() on it.');
    }
    try {
      decoder.decode(chunk, deliver);
    } catch (err) {
      const failure = decoder.error;
      if (failure === undefined || err !== failure) throw err; // onFrame's own exception
      fail(failure);
    }
  }

  function onEnd(): void {
    if (!attached) return;
    try {
      decoder.end();
      detach();
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      fail(err);
    }
  }

  stream.on('data', onData);
  stream.on('end', onEnd);
  return detach;
}
