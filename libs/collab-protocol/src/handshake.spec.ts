import {
  ErrorCode,
  MessageType,
  PROTOCOL_VERSION,
  checkHello,
  checkWelcome,
  decodeMessage,
  describeServerError,
  encodeMessage,
  isRetryableErrorCode,
  makeErrorMessage,
  makeHello,
  makeWelcome,
  type HelloMessage,
  type Message,
} from './index';

const hello = (fields: Partial<HelloMessage> = {}): HelloMessage => ({
  ...makeHello({ document: 'temp', clientName: 'Ann', token: 's3cret' }),
  ...fields,
});

describe('checkHello (server side)', () => {
  const options = { token: 's3cret', supportedVersions: [PROTOCOL_VERSION] };

  it('welcomes a HELLO with a supported version, the right token and a valid name', () => {
    expect(checkHello(hello(), options)).toEqual({ ok: true, version: 1, document: 'temp', clientName: 'Ann' });
  });

  it('accepts any token when the server has none configured', () => {
    expect(checkHello(hello({ token: '' }), {})).toMatchObject({ ok: true });
    expect(checkHello(hello({ token: 'whatever' }), { token: '' })).toMatchObject({ ok: true });
  });

  it('refuses a first message that is not HELLO with ERROR 3', () => {
    const decision = checkHello({ type: MessageType.Ping }, options);
    expect(decision).toMatchObject({ ok: false, code: ErrorCode.ProtocolError });
    expect(decision.ok || decision.message).toBe('The first message must be HELLO (type 100), but it was PING (type 104).');
  });

  it('refuses an unsupported version with ERROR 5', () => {
    const decision = checkHello(hello({ version: 2 }), options);
    expect(decision).toMatchObject({ ok: false, code: ErrorCode.UnsupportedVersion });
    expect(decision.ok || decision.message).toMatch(/version 2 is not supported; this server speaks version 1\./);
  });

  it('refuses a missing or wrong token with ERROR 2', () => {
    for (const token of ['', 's3cre', 's3cret ', 'S3CRET', 's3cret\u0000', 'x'.repeat(1000)]) {
      expect(checkHello(hello({ token }), options)).toMatchObject({ ok: false, code: ErrorCode.AuthFailed });
    }
  });

  it('refuses a bad document name with ERROR 6 and says why', () => {
    const decision = checkHello(hello({ document: '../etc/passwd' }), options);
    expect(decision).toMatchObject({ ok: false, code: ErrorCode.BadDocumentName });
    expect(decision.ok || decision.message).toMatch(/^The document name "\.\.\/etc\/passwd" is not allowed/);
  });

  it('checks the version before the token, and the token before the name', () => {
    const everythingWrong = hello({ version: 9, token: 'nope', document: '.x' });
    expect(checkHello(everythingWrong, options)).toMatchObject({ code: ErrorCode.UnsupportedVersion });
    expect(checkHello({ ...everythingWrong, version: 1 }, options)).toMatchObject({ code: ErrorCode.AuthFailed });
    expect(checkHello({ ...everythingWrong, version: 1, token: 's3cret' }, options)).toMatchObject({
      code: ErrorCode.BadDocumentName,
    });
  });

  it('accepts every version listed in supportedVersions', () => {
    expect(checkHello(hello({ version: 2 }), { supportedVersions: [1, 2] })).toMatchObject({ ok: true, version: 2 });
  });

  it('decides on a HELLO exactly as it arrives from the wire', () => {
    const wire = decodeMessage(encodeMessage(makeHello({ document: 'notes', clientName: 'Zoë 👩🏽‍💻' })));
    expect(checkHello(wire, {})).toEqual({ ok: true, version: 1, document: 'notes', clientName: 'Zoë 👩🏽‍💻' });
  });
});

describe('makeHello and makeWelcome', () => {
  it('fills in the protocol version and an empty token', () => {
    expect(makeHello({ document: 'temp', clientName: 'Ann' })).toEqual({
      type: MessageType.Hello,
      version: PROTOCOL_VERSION,
      document: 'temp',
      clientName: 'Ann',
      token: '',
    });
    expect(makeWelcome({ server: 'collab-server 0.1.0', document: 'temp', maxFrameBytes: 1024 })).toEqual({
      type: MessageType.Welcome,
      version: PROTOCOL_VERSION,
      server: 'collab-server 0.1.0',
      document: 'temp',
      maxFrameBytes: 1024,
    });
  });
});

describe('checkWelcome (client side)', () => {
  const welcome = makeWelcome({ server: 'collab-server 0.1.0', document: 'temp', maxFrameBytes: 16 * 1024 * 1024 });

  it('accepts a WELCOME for the requested document in a supported version', () => {
    expect(checkWelcome(welcome, { document: 'temp' })).toEqual({ ok: true, welcome });
  });

  it("turns the server's ERROR 1 into its own text, retryable", () => {
    expect(checkWelcome(makeErrorMessage(ErrorCode.ServerFull), { document: 'temp' })).toEqual({
      ok: false,
      code: ErrorCode.ServerFull,
      message: 'Server is full. Please try again later.',
      fromServer: true,
      retryable: true,
    });
  });

  it('reports a refused token as not worth retrying', () => {
    expect(checkWelcome(makeErrorMessage(ErrorCode.AuthFailed), { document: 'temp' })).toMatchObject({
      ok: false,
      message: 'The server refused the token.',
      fromServer: true,
      retryable: false,
    });
  });

  it('rejects a WELCOME in a version the client does not speak', () => {
    expect(checkWelcome({ ...welcome, version: 2 }, { document: 'temp' })).toMatchObject({
      ok: false,
      code: ErrorCode.UnsupportedVersion,
      fromServer: false,
      message: 'The server speaks protocol version 2, but this client speaks version 1.',
    });
  });

  it('rejects a WELCOME for another document', () => {
    expect(checkWelcome(welcome, { document: 'notes' })).toMatchObject({
      ok: false,
      code: ErrorCode.ProtocolError,
      message: 'The server opened the document "temp" instead of "notes".',
    });
  });

  it.each([0, 2 ** 32, 2 ** 40])('rejects a WELCOME announcing a max frame size of %d bytes', (maxFrameBytes) => {
    expect(checkWelcome({ ...welcome, maxFrameBytes }, { document: 'temp' })).toMatchObject({
      ok: false,
      code: ErrorCode.ProtocolError,
    });
  });

  it('rejects any other first message from the server', () => {
    const first: Message = { type: MessageType.Sync, syncType: 0, data: new Uint8Array([0]) };
    expect(checkWelcome(first, { document: 'temp' })).toMatchObject({
      ok: false,
      message: 'The server answered HELLO with SYNC (type 0) instead of WELCOME.',
      fromServer: false,
    });
  });
});

describe('describeServerError', () => {
  const error = (code: number, message: string): Message & { type: MessageType.Error } => ({
    type: MessageType.Error,
    code,
    message,
  });

  it.each([
    [ErrorCode.AuthFailed, 'The server refused the token.'],
    [ErrorCode.ShuttingDown, 'The server is shutting down.'],
    [ErrorCode.StorageUnavailable, 'The server cannot store edits right now.'],
    [ErrorCode.Timeout, 'The server closed the connection after a timeout.'],
  ])('describes ERROR %d with its default text as %j', (code, sentence) => {
    expect(describeServerError(makeErrorMessage(code))).toBe(sentence);
  });

  it("adds a server's specific text after the client's own sentence", () => {
    expect(describeServerError(error(6, 'The document name ".x" is not allowed: it must not start with a dot.'))).toBe(
      'The server refused the document name. The server said: The document name ".x" is not allowed: it must not start with a dot.',
    );
  });

  it('describes a code newer than this client', () => {
    expect(describeServerError(error(42, 'Try the new server.'))).toBe(
      'The server closed the connection with error 42. The server said: Try the new server.',
    );
    expect(describeServerError(error(42, ''))).toBe('The server closed the connection with error 42.');
  });

  it('keeps terminal escape sequences and floods out of what it prints', () => {
    const sentence = describeServerError(error(1, '\u001b[2J\u001b]0;pwned\u0007Full\r\n' + 'z'.repeat(10_000)));
    expect(sentence).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(sentence.length).toBeLessThanOrEqual(301);
  });

  it('falls back to its own sentence when ERROR 1 comes without text', () => {
    expect(describeServerError(error(1, ''))).toBe('Server is full. Please try again later.');
  });
});

describe('isRetryableErrorCode', () => {
  it('retries only what passes on the server side: full, storage, timeout, shutdown', () => {
    const retryable = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter(isRetryableErrorCode);
    expect(retryable).toEqual([1, 7, 8, 9]);
  });
});
