import fc from 'fast-check';
import { encodeRecord, scanRecords, RECORD_HEADER_BYTES } from './record-codec';

function log(...payloads: Uint8Array[]): Buffer {
  return Buffer.concat(payloads.map(encodeRecord));
}

const text = (s: string) => Buffer.from(s, 'utf8');

describe('record codec', () => {
  it('reads back every record written', () => {
    const scan = scanRecords(log(text('one'), text(''), text('three')));
    expect(scan.records.map((r) => Buffer.from(r).toString())).toEqual(['one', '', 'three']);
    expect(scan.damage).toBeNull();
  });

  it('reads an empty log as no records', () => {
    expect(scanRecords(new Uint8Array(0))).toEqual({ records: [], validBytes: 0, damage: null });
  });

  it('frames a record as crc32, length, payload in little-endian', () => {
    const frame = Buffer.from(encodeRecord(text('a')));
    expect(frame.readUInt32LE(4)).toBe(1);
    expect(frame.subarray(RECORD_HEADER_BYTES).toString()).toBe('a');
    expect(frame.length).toBe(9);
  });

  it('ignores a truncated trailing record', () => {
    const full = log(text('first'), text('second'));
    const cut = full.subarray(0, full.length - 3);
    const scan = scanRecords(cut);
    expect(scan.records.map((r) => Buffer.from(r).toString())).toEqual(['first']);
    expect(scan.damage).toMatchObject({ kind: 'torn', offset: 13, droppedBytes: cut.length - 13 });
  });

  it('ignores a partial header at the end', () => {
    const full = Buffer.concat([log(text('first')), Buffer.from([1, 2, 3])]);
    expect(scanRecords(full).damage).toMatchObject({ kind: 'torn', offset: 13, droppedBytes: 3 });
  });

  it('treats a zero-filled tail as torn (power loss after the size grew)', () => {
    const full = Buffer.concat([log(text('first')), Buffer.alloc(100)]);
    const scan = scanRecords(full);
    expect(scan.records).toHaveLength(1);
    expect(scan.damage).toMatchObject({ kind: 'torn', offset: 13, droppedBytes: 100 });
  });

  it('refuses a bad checksum in a complete last record as corrupt: it was written whole, so it may hold an acknowledged edit', () => {
    const full = log(text('first'), text('second'));
    full[full.length - 1] ^= 0x40;
    expect(scanRecords(full).damage).toMatchObject({
      kind: 'corrupt',
      offset: 13,
      reason: expect.stringMatching(/last record, which was written whole/),
    });
  });

  it('treats a last record that runs past the end of the file as torn', () => {
    const full = log(text('first'), text('second'));
    expect(scanRecords(full.subarray(0, full.length - 3)).damage).toMatchObject({ kind: 'torn', offset: 13, droppedBytes: 11 });
  });

  it('stops at a checksum mismatch before the end, naming the offset', () => {
    const full = log(text('first'), text('second'), text('third'));
    full[13 + RECORD_HEADER_BYTES] ^= 0x01;
    const scan = scanRecords(full);
    expect(scan.records.map((r) => Buffer.from(r).toString())).toEqual(['first']);
    expect(scan.damage).toEqual({ kind: 'corrupt', offset: 13, reason: 'checksum mismatch' });
  });

  it('stops at a bad length before the end even when it points past the end', () => {
    const full = log(text('first'), text('second'), text('third'));
    full[13 + 7] = 0x7f;
    expect(scanRecords(full).damage).toMatchObject({ kind: 'corrupt', offset: 13 });
  });

  it('finds intact records after damage in a long tail quickly', () => {
    const payloads = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(300 + (i % 7), i & 0xff));
    const full = log(...payloads);
    full[4] ^= 0x10; // first record's length
    const started = Date.now();
    expect(scanRecords(full).damage).toMatchObject({ kind: 'corrupt', offset: 0 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  const payloadList = fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 12 });

  it('recovers every record before a cut at any byte, and reports the rest as torn', () => {
    fc.assert(
      fc.property(payloadList, fc.nat(), (payloads, at) => {
        const full = log(...payloads);
        const cut = at % (full.length + 1);
        const scan = scanRecords(full.subarray(0, cut));
        let end = 0;
        let complete = 0;
        while (complete < payloads.length && end + RECORD_HEADER_BYTES + payloads[complete].length <= cut) {
          end += RECORD_HEADER_BYTES + payloads[complete].length;
          complete++;
        }
        expect(scan.records.map((r) => Buffer.from(r))).toEqual(payloads.slice(0, complete).map((p) => Buffer.from(p)));
        expect(scan.validBytes).toBe(end);
        if (cut === end) expect(scan.damage).toBeNull();
        else expect(scan.damage).toMatchObject({ kind: 'torn', offset: end, droppedBytes: cut - end });
      }),
      { numRuns: 500 },
    );
  });

  it('recovers every record before a flipped byte: torn if the last record then runs past the end, corrupt otherwise', () => {
    fc.assert(
      fc.property(payloadList, fc.nat(), fc.integer({ min: 1, max: 255 }), (payloads, at, mask) => {
        const full = log(...payloads);
        const pos = at % full.length;
        full[pos] ^= mask;
        let start = 0;
        let hit = 0;
        while (start + RECORD_HEADER_BYTES + payloads[hit].length <= pos) start += RECORD_HEADER_BYTES + payloads[hit++].length;
        const scan = scanRecords(full);
        expect(scan.records.map((r) => Buffer.from(r))).toEqual(payloads.slice(0, hit).map((p) => Buffer.from(p)));
        // A flip in the last record's length can make it run past the end (a torn write, as far
        // as anyone can tell); anywhere else the last record is complete, and damaged.
        const runsPast = start + RECORD_HEADER_BYTES + full.readUInt32LE(start + 4) > full.length;
        if (hit === payloads.length - 1 && runsPast) {
          expect(scan.damage).toMatchObject({ kind: 'torn', offset: start, droppedBytes: full.length - start });
        } else {
          expect(scan.damage).toMatchObject({ kind: 'corrupt', offset: start });
        }
      }),
      { numRuns: 1000 },
    );
  });
});
