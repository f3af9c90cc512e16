import {
  DEFAULT_DOCUMENT as SERVER_DEFAULT,
  MessageType as Server,
  SyncType as ServerSync,
  TEXT_NAME as SERVER_TEXT,
} from '@collab/collab-protocol';
import { DEFAULT_DOCUMENT, MessageType, SyncType, TEXT_NAME, syncTypeOf } from '../src/protocol';

describe("the page's protocol numbers", () => {
  it('are those of @collab/collab-protocol (the page cannot bundle it)', () => {
    expect(MessageType).toEqual({ Sync: Server.Sync, Awareness: Server.Awareness, Ack: Server.Ack, Ping: Server.Ping, Pong: Server.Pong });
    expect(SyncType).toEqual({ Step1: ServerSync.Step1, Step2: ServerSync.Step2, Update: ServerSync.Update });
    expect(TEXT_NAME).toBe(SERVER_TEXT);
    expect(DEFAULT_DOCUMENT).toBe(SERVER_DEFAULT);
  });

  it('tells a SYNC message by its first two bytes', () => {
    expect(syncTypeOf(Uint8Array.of(0, 2, 0))).toBe(SyncType.Update);
    expect(syncTypeOf(Uint8Array.of(1, 2, 0))).toBeUndefined();
    expect(syncTypeOf(Uint8Array.of(0))).toBeUndefined();
  });
});
