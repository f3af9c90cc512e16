/** Base class of every error of @collab/framing; `code` is stable for scripts and tests. */
export class FramingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FramingError';
  }
}

/** A frame whose payload is longer than the configured maxFrameBytes (PROTOCOL.md ERROR 4). */
export class FrameTooLargeError extends FramingError {
  constructor(
    readonly announcedBytes: number,
    readonly maxFrameBytes: number,
  ) {
    super('COLLAB_ERR_FRAME_TOO_LARGE', `A frame of ${announcedBytes} bytes exceeds the limit of ${maxFrameBytes} bytes.`);
    this.name = 'FrameTooLargeError';
  }
}

/** A frame announcing a zero-byte payload, which the protocol forbids (ERROR 3). */
export class EmptyFrameError extends FramingError {
  constructor() {
    super('COLLAB_ERR_EMPTY_FRAME', 'A frame must carry at least 1 byte of payload, but its header announced 0.');
    this.name = 'EmptyFrameError';
  }
}

/** A stream that ended in the middle of a frame; `announcedBytes` is undefined if the header itself was cut. */
export class TruncatedFrameError extends FramingError {
  constructor(
    readonly receivedBytes: number,
    readonly announcedBytes: number | undefined,
  ) {
    super(
      'COLLAB_ERR_TRUNCATED_FRAME',
      announcedBytes === undefined
        ? `The stream ended inside a frame header, after ${receivedBytes} of its 4 bytes.`
        : `The stream ended inside a frame of ${announcedBytes} bytes, after ${receivedBytes} bytes of header and payload.`,
    );
    this.name = 'TruncatedFrameError';
  }
}

/** A maxFrameBytes option that is not a whole number of bytes a uint32 header can carry. */
export class InvalidMaxFrameBytesError extends FramingError {
  constructor(readonly value: unknown) {
    super('COLLAB_ERR_INVALID_MAX_FRAME_BYTES', `maxFrameBytes must be an integer from 1 to 4294967295 (got ${String(value)}).`);
    this.name = 'InvalidMaxFrameBytesError';
  }
}
