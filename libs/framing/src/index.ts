export { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, MAX_FRAME_BYTES_LIMIT } from './constants';
export { FramingError, FrameTooLargeError, EmptyFrameError, TruncatedFrameError, InvalidMaxFrameBytesError } from './errors';
export { encodeFrame, encodeFrames, writeFrameHeader } from './frame-encoder';
export { FrameDecoder } from './frame-decoder';
export type { FrameDecoderOptions } from './frame-decoder';
export { readFrames } from './frame-reader';
