import {
  DEFAULT_ERROR_MESSAGES,
  ErrorCode,
  MessageType,
  PROTOCOL_VERSION,
  SyncType,
  isKnownErrorCode,
  isMessageType,
  isSyncType,
  makeErrorMessage,
} from './index';

describe('message types and codes', () => {
  it('numbers message, sync and error types as PROTOCOL.md does', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect([MessageType.Sync, MessageType.Awareness, MessageType.Auth, MessageType.QueryAwareness]).toEqual([0, 1, 2, 3]);
    expect([
      MessageType.Hello,
      MessageType.Welcome,
      MessageType.Error,
      MessageType.Ack,
      MessageType.Ping,
      MessageType.Pong,
      MessageType.Flush,
      MessageType.Flushed,
    ]).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect([SyncType.Step1, SyncType.Step2, SyncType.Update]).toEqual([0, 1, 2]);
    expect(ErrorCode.ServerFull).toBe(1);
    expect(ErrorCode.DocumentTooLarge).toBe(10);
  });

  it("gives ERROR 1 the assignment's exact text", () => {
    expect(DEFAULT_ERROR_MESSAGES[ErrorCode.ServerFull]).toBe('Server is full. Please try again later.');
    expect(makeErrorMessage(ErrorCode.ServerFull)).toEqual({
      type: MessageType.Error,
      code: 1,
      message: 'Server is full. Please try again later.',
    });
  });

  it('has a full-sentence default text for every code from 1 to 10', () => {
    for (let code = 1; code <= 10; code++) {
      expect(isKnownErrorCode(code)).toBe(true);
      expect(DEFAULT_ERROR_MESSAGES[code as ErrorCode]).toMatch(/^[A-Z].*\.$/);
    }
    expect(isKnownErrorCode(0)).toBe(false);
    expect(isKnownErrorCode(11)).toBe(false);
  });

  it('lets a specific sentence replace the default text', () => {
    expect(makeErrorMessage(ErrorCode.ProtocolError, 'HELLO was sent twice.').message).toBe('HELLO was sent twice.');
  });

  it('recognises exactly the defined message and sync types', () => {
    expect([0, 1, 2, 3, 100, 105, 106, 107].every(isMessageType)).toBe(true);
    expect([4, 99, 108, -1, 1.5].some(isMessageType)).toBe(false);
    expect([0, 1, 2].every(isSyncType)).toBe(true);
    expect([3, -1, '0', undefined].some(isSyncType)).toBe(false);
  });
});
