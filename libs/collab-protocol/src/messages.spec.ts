import {
  ErrorCode,
  InvalidMessageError,
  MessageType,
  ProtocolError,
  SyncType,
  decodeMessage,
  encodeMessage,
  encodeMessageFrame,
  makeErrorMessage,
  messageTypeName,
  type Message,
} from './index';
import { FrameTooLargeError } from '@collab/framing';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** One valid message of every type, with the exact bytes PROTOCOL.md prescribes for it. */
const FIXTURES: ReadonlyArray<{ name: string; msg: Message; hex: string }> = [
  { name: 'SYNC step 1', msg: { type: MessageType.Sync, syncType: SyncType.Step1, data: hex('00') }, hex: '00 00 01 00' },
  {
    name: 'SYNC step 2',
    msg: { type: MessageType.Sync, syncType: SyncType.Step2, data: hex('0000') },
    hex: '00 01 02 0000',
  },
  {
    name: 'SYNC update',
    msg: { type: MessageType.Sync, syncType: SyncType.Update, data: hex('010203') },
    hex: '00 02 03 010203',
  },
  { name: 'AWARENESS', msg: { type: MessageType.Awareness, update: hex('0102') }, hex: '01 02 0102' },
  { name: 'AUTH', msg: { type: MessageType.Auth, body: hex('00 02 6e6f') }, hex: '02 00 02 6e6f' },
  { name: 'QUERY_AWARENESS', msg: { type: MessageType.QueryAwareness }, hex: '03' },
  {
    name: 'HELLO',
    msg: { type: MessageType.Hello, version: 1, document: 'temp', clientName: 'ann', token: '' },
    hex: '64 01 04 74656d70 03 616e6e 00',
  },
  {
    name: 'WELCOME',
    msg: { type: MessageType.Welcome, version: 1, server: 's', document: 'temp', maxFrameBytes: 16 * 1024 * 1024 },
    hex: '65 01 01 73 04 74656d70 80808008',
  },
  {
    name: 'ERROR 1',
    msg: makeErrorMessage(ErrorCode.ServerFull),
    hex: `66 01 27 ${Buffer.from('Server is full. Please try again later.').toString('hex')}`,
  },
  { name: 'ACK 3', msg: { type: MessageType.Ack, count: 3 }, hex: '67 03' },
  { name: 'ACK 300', msg: { type: MessageType.Ack, count: 300 }, hex: '67 ac02' },
  { name: 'PING', msg: { type: MessageType.Ping }, hex: '68' },
  { name: 'PONG', msg: { type: MessageType.Pong }, hex: '69' },
  { name: 'FLUSH', msg: { type: MessageType.Flush }, hex: '6a' },
  { name: 'FLUSHED', msg: { type: MessageType.Flushed }, hex: '6b' },
];

describe('encodeMessage and decodeMessage', () => {
  it.each(FIXTURES)('encodes $name as the bytes PROTOCOL.md prescribes', ({ msg, hex: bytes }) => {
    expect(toHex(encodeMessage(msg))).toBe(bytes.replace(/\s+/g, ''));
  });

  it.each(FIXTURES)('decodes the bytes of $name back to the same message', ({ msg, hex: bytes }) => {
    expect(decodeMessage(hex(bytes))).toEqual(msg);
  });

  it.each(FIXTURES)('ignores fields appended after those of $name (room for version 2)', ({ msg, hex: bytes }) => {
    if (msg.type === MessageType.Auth) return; // AUTH keeps its whole body, appended bytes included
    expect(decodeMessage(hex(`${bytes} 07 03 616263 ff`))).toEqual(msg);
  });

  it('keeps every byte after the type as the AUTH body, so y-protocols auth messages pass through unchanged', () => {
    expect(decodeMessage(hex('02'))).toEqual({ type: MessageType.Auth, body: new Uint8Array(0) });
    expect(toHex(encodeMessage({ type: MessageType.Auth, body: hex('00 03 616263 ff') }))).toBe('020003616263ff');
  });

  it('round-trips strings with emoji, combining marks and a leading byte-order mark', () => {
    const msg: Message = {
      type: MessageType.Hello,
      version: 1,
      document: 'notes_2024-01.txt',
      clientName: '\ufeffZoë 👩🏽‍💻 e\u0301',
      token: 'sécret',
    };
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
  });

  it('round-trips the largest varUint a JavaScript number holds exactly', () => {
    const msg: Message = { type: MessageType.Ack, count: Number.MAX_SAFE_INTEGER };
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
  });

  it('decodes an ERROR with a code newer than this version', () => {
    expect(decodeMessage(hex('66 0b 02 6869'))).toEqual({ type: MessageType.Error, code: 11, message: 'hi' });
  });

  it('decodes byte fields as views into the payload, without copying', () => {
    const payload = hex('00 02 03 010203');
    const msg = decodeMessage(payload);
    expect(msg.type === MessageType.Sync && msg.data.buffer).toBe(payload.buffer);
  });

  it('accepts a Buffer payload as @collab/framing hands it over', () => {
    expect(decodeMessage(Buffer.from('6703', 'hex'))).toEqual({ type: MessageType.Ack, count: 3 });
  });

  it('accepts a non-minimal varUint, as lib0 does', () => {
    expect(decodeMessage(hex('e800'))).toEqual({ type: MessageType.Ping });
  });
});

describe('decodeMessage on malformed payloads', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an empty payload', '', /empty/],
    ['an unknown message type', '04', /message type 4 is unknown/],
    ['a message type cut inside its varUint', '80', /message type that is not a complete varUint/],
    ['a message type beyond 2^53', 'ffffffffffffffffff01', /larger than 2\^53/],
    ['a varUint of 0x80 bytes long enough to overflow to NaN', `${'80'.repeat(200)}00`, /larger than 2\^53/],
    ['a SYNC without a sync type', '00', /SYNC message ends before its sync type/],
    ['a SYNC with an unknown sync type', '00 03 00', /unknown sync type 3/],
    ['a SYNC without data', '00 02', /SYNC message ends before its sync data length/],
    ['a SYNC whose data is shorter than announced', '00 02 05 0102', /declares a sync data of 5 bytes, but only 2/],
    ['a SYNC whose data length is beyond 2^53', '00 02 ffffffffffffffffff7f', /larger than 2\^53/],
    ['an AWARENESS without its update', '01', /AWARENESS message ends before its awareness update length/],
    ['a HELLO without a version', '64', /HELLO message ends before its protocol version/],
    ['a HELLO cut after the document name', '64 01 04 74656d70', /HELLO message ends before its client name/],
    ['a HELLO whose client name is not UTF-8', '64 01 01 61 02 c328 00', /client name that is not valid UTF-8/],
    ['a HELLO with a lone surrogate encoded in UTF-8', '64 01 01 61 03 eda080 00', /not valid UTF-8/],
    ['a HELLO with an overlong UTF-8 encoding', '64 01 01 61 02 c0af 00', /not valid UTF-8/],
    ['a WELCOME without its max frame size', '65 01 01 73 01 61', /WELCOME message ends before its max frame size/],
    ['an ERROR without its text', '66 01', /ERROR message ends before its error message length/],
    ['an ACK without its count', '67', /ACK message ends before its acknowledged count/],
  ];

  it.each(cases)('rejects %s with ProtocolError (ERROR 3)', (_name, bytes, text) => {
    let caught: unknown;
    try {
      decodeMessage(hex(bytes));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect(caught).toMatchObject({ code: 'COLLAB_ERR_PROTOCOL', errorCode: ErrorCode.ProtocolError });
    expect((caught as Error).message).toMatch(text);
    expect((caught as Error).message).toMatch(/\.$/);
  });

  it('answers a HELLO of another version that cannot be read with ERROR 5, not 3', () => {
    expect(() => decodeMessage(hex('64 02 ff'))).toThrow(
      expect.objectContaining({ code: 'COLLAB_ERR_PROTOCOL', errorCode: ErrorCode.UnsupportedVersion }),
    );
  });

  it('still decodes a HELLO of another version laid out like version 1, leaving the verdict to checkHello', () => {
    expect(decodeMessage(hex('64 02 00 00 00'))).toEqual({
      type: MessageType.Hello,
      version: 2,
      document: '',
      clientName: '',
      token: '',
    });
  });

  it('treats a malformed version 1 HELLO as malformed (ERROR 3)', () => {
    expect(() => decodeMessage(hex('64 01 ff'))).toThrow(expect.objectContaining({ errorCode: ErrorCode.ProtocolError }));
  });
});

describe('encodeMessage on values the wire cannot carry', () => {
  const bad: Array<[string, unknown]> = [
    ['a negative ACK count', { type: MessageType.Ack, count: -1 }],
    ['a fractional ACK count', { type: MessageType.Ack, count: 1.5 }],
    ['an ACK count beyond 2^53', { type: MessageType.Ack, count: 2 ** 53 }],
    ['an unknown sync type', { type: MessageType.Sync, syncType: 3, data: new Uint8Array(0) }],
    ['SYNC data that is not bytes', { type: MessageType.Sync, syncType: 0, data: [1, 2] }],
    ['a HELLO token that is not a string', { type: MessageType.Hello, version: 1, document: 'a', clientName: 'b', token: undefined }],
    ['an unknown message type', { type: 4 }],
  ];

  it.each(bad)('refuses %s with InvalidMessageError', (_name, msg) => {
    expect(() => encodeMessage(msg as Message)).toThrow(InvalidMessageError);
    expect(() => encodeMessage(msg as Message)).toThrow(expect.objectContaining({ code: 'COLLAB_ERR_INVALID_MESSAGE' }));
  });
});

describe('encodeMessageFrame', () => {
  it('prefixes the payload with its big-endian length', () => {
    expect(toHex(encodeMessageFrame({ type: MessageType.Ping }))).toBe('0000000168');
    expect(toHex(encodeMessageFrame({ type: MessageType.Ack, count: 3 }))).toBe('000000026703');
  });

  it('refuses a message larger than maxFrameBytes with FrameTooLargeError', () => {
    const msg: Message = { type: MessageType.Awareness, update: new Uint8Array(10) };
    expect(() => encodeMessageFrame(msg, 11)).toThrow(FrameTooLargeError);
    expect(encodeMessageFrame(msg, 12).length).toBe(16);
  });
});

describe('messageTypeName', () => {
  it('names types as PROTOCOL.md does', () => {
    expect(messageTypeName(MessageType.QueryAwareness)).toBe('QUERY_AWARENESS');
    expect(messageTypeName(104)).toBe('PING');
    expect(messageTypeName(7)).toBe('unknown type 7');
  });
});
