// The framing shared by the update log and the snapshot, after LevelDB's log_format:
//
//   offset 0  crc32   u32 little-endian, CRC-32 of bytes 4 .. 8+length (length and payload)
//   offset 4  length  u32 little-endian, payload bytes
//   offset 8  payload
//
// The checksum covers the length so a damaged length is caught like a damaged payload.
// Scanning is pure (bytes in, records out) so recovery can be tested byte by byte.

import { crc32 } from './crc32';
import { prefixCrcs, rangeCrc } from './crc32-range';

/** Bytes before each payload: checksum and length. */
export const RECORD_HEADER_BYTES = 8;

/** Largest payload one record may hold; the length field is 32 bits. */
export const MAX_RECORD_PAYLOAD_BYTES = 0xffffffff - RECORD_HEADER_BYTES;

/** One framed record: header then payload, ready to be written. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) throw new RangeError(`a record holds at most ${MAX_RECORD_PAYLOAD_BYTES} bytes`);
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(4, payload.length, true);
  out.set(payload, RECORD_HEADER_BYTES);
  view.setUint32(0, crc32(out, 4), true);
  return out;
}

/** What went wrong at `offset`, the start of the first record that is not intact. */
export type RecordDamage =
  /**
   * A write cut short (crash, power loss): the last record runs past the end of the file, or
   * the file ends in zeros the file system left. It was never acknowledged; dropping it loses nothing.
   */
  | { kind: 'torn'; offset: number; droppedBytes: number; reason: string }
  /**
   * Damage to a record that was written whole (intact records follow it, or it is a complete
   * last record whose checksum fails): it may hold an acknowledged edit, so it is never dropped.
   */
  | { kind: 'corrupt'; offset: number; reason: string };

/** The intact records from the start of a file up to the first damage, if any. */
export interface RecordScan {
  /** Payloads, as views into the scanned bytes. */
  records: Uint8Array[];
  /** Offset just past the last intact record. */
  validBytes: number;
  damage: RecordDamage | null;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** Reads records from the start of `bytes`, stopping at the first one that is incomplete or fails its checksum. */
export function scanRecords(bytes: Uint8Array): RecordScan {
  const records: Uint8Array[] = [];
  const n = bytes.length;
  let p = 0;
  let reason: string | null = null;
  while (p < n) {
    if (n - p < RECORD_HEADER_BYTES) {
      reason = `incomplete record header (${n - p} of ${RECORD_HEADER_BYTES} bytes)`;
      break;
    }
    const length = u32(bytes, p + 4);
    const end = p + RECORD_HEADER_BYTES + length;
    if (end > n) {
      reason = `record of ${length} bytes runs past the end of the file`;
      break;
    }
    if (crc32(bytes, p + 4, end) !== u32(bytes, p)) {
      reason = 'checksum mismatch';
      break;
    }
    records.push(bytes.subarray(p + RECORD_HEADER_BYTES, end));
    p = end;
  }
  if (reason === null) return { records, validBytes: p, damage: null };
  let damage: RecordDamage;
  if (hasIntactRecordAfter(bytes, p + 1)) damage = { kind: 'corrupt', offset: p, reason };
  else if (isTornTail(bytes, p)) damage = { kind: 'torn', offset: p, droppedBytes: n - p, reason };
  else
    damage = {
      kind: 'corrupt',
      offset: p,
      reason: `${reason} in the last record, which was written whole, so it may hold an acknowledged edit`,
    };
  return { records, validBytes: p, damage };
}

// A tail a crash can leave: a header cut short, a record that runs past the end of the file (the
// append was cut short), or nothing but zeros (the file system extended the file but the data
// never reached the disk). A complete record with other bytes that fails its checksum was
// written whole and then damaged.
function isTornTail(bytes: Uint8Array, p: number): boolean {
  const n = bytes.length;
  if (n - p < RECORD_HEADER_BYTES) return true;
  if (p + RECORD_HEADER_BYTES + u32(bytes, p + 4) > n) return true;
  for (let i = p; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}

// Tells a torn tail (only the end of the file is bad) from damage in the middle (intact records
// follow it). Any byte may start a record once lengths can no longer be trusted, so every
// position is tried; range checksums keep that near-linear even for megabytes of tail.
function hasIntactRecordAfter(bytes: Uint8Array, from: number): boolean {
  const n = bytes.length;
  if (n - from < RECORD_HEADER_BYTES) return false;
  let prefix: Uint32Array | null = null;
  for (let q = from; q + RECORD_HEADER_BYTES <= n; q++) {
    const length = u32(bytes, q + 4);
    const end = q + RECORD_HEADER_BYTES + length;
    if (end > n) continue;
    let sum: number;
    if (length < 256) {
      sum = crc32(bytes, q + 4, end);
    } else {
      prefix ??= prefixCrcs(bytes, from, n);
      sum = rangeCrc(prefix, q + 4 - from, end - from);
    }
    if (sum === u32(bytes, q)) return true;
  }
  return false;
}
