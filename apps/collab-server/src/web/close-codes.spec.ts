import { ErrorCode } from '@collab/collab-protocol';
import { MAX_CLOSE_REASON_BYTES, closeCodeFor, closeReason } from './close-codes';

describe('close codes', () => {
  it("says a refusal in y-websocket's convention: 44xx final, 45xx try again, standard codes where they fit", () => {
    expect(closeCodeFor(ErrorCode.AuthFailed)).toBe(4402);
    expect(closeCodeFor(ErrorCode.BadDocumentName)).toBe(4406);
    expect(closeCodeFor(ErrorCode.DocumentTooLarge)).toBe(4410);
    expect(closeCodeFor(ErrorCode.ServerFull)).toBe(4501);
    expect(closeCodeFor(ErrorCode.ProtocolError)).toBe(4503);
    expect(closeCodeFor(ErrorCode.StorageUnavailable)).toBe(4507);
    expect(closeCodeFor(ErrorCode.Timeout)).toBe(4508);
    expect(closeCodeFor(ErrorCode.FrameTooLarge)).toBe(1009);
    expect(closeCodeFor(ErrorCode.ShuttingDown)).toBe(1001);
  });

  it('keeps a reason within 123 bytes of UTF-8, never cutting a character in two', () => {
    expect(closeReason('Server is full. Please try again later.')).toBe('Server is full. Please try again later.');
    const long = closeReason('é'.repeat(100));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(long.endsWith('é…')).toBe(true);
    expect(Buffer.byteLength(closeReason('x'.repeat(500)))).toBe(MAX_CLOSE_REASON_BYTES);
  });
});
