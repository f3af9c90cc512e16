/** Payload limit when none is configured; PROTOCOL.md makes 16 MiB the server default. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Size of the uint32 big-endian length that precedes every payload. */
export const FRAME_HEADER_BYTES = 4;

/** Largest maxFrameBytes a uint32 header can express, so the largest limit we accept. */
export const MAX_FRAME_BYTES_LIMIT = 0xffff_ffff;
