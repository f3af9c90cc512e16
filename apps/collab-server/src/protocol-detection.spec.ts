import { encodeMessageFrame, makeHello } from '@collab/collab-protocol';
import { detectProtocol, httpHint } from './protocol-detection';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('detectProtocol (one port, framed and plain-text clients)', () => {
  it('takes a HELLO frame, whose first byte is 0x00, as a framed client', () => {
    expect(detectProtocol(encodeMessageFrame(makeHello({ document: 'temp', clientName: 'ann' })))).toBe('framed');
    expect(detectProtocol(Uint8Array.from([0]))).toBe('framed');
  });

  it('leaves bytes that are neither text nor telnet to the frame decoder (a TLS ClientHello, a frame far too large)', () => {
    expect(detectProtocol(Uint8Array.from([0x16, 0x03, 0x01, 0x02]))).toBe('framed');
    expect(detectProtocol(Uint8Array.from([0x7f, 0xff, 0xff, 0xff]))).toBe('framed');
    expect(detectProtocol(Uint8Array.from([0x04]))).toBe('framed');
  });

  it('takes printable text, a line break, a UTF-8 character or a telnet command first as plain text', () => {
    for (const first of ['hello\n', 'x', '\n', '\r\n', '\tindented', 'été', '日本', 'GET milk on the way home\n', 'POST it\n']) {
      expect(detectProtocol(bytes(first))).toBe('text');
    }
    expect(detectProtocol(Uint8Array.from([0xff, 0xfd, 0x01]))).toBe('text');
  });

  it('recognises an HTTP request line, and the start of one whose line did not fit the first read', () => {
    for (const request of [
      'GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n',
      'POST /submit HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
      'HEAD /index.html HTTP/1.0\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\n',
      'CONNECT localhost:8080 HTTP/1.1\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      `GET /${'a'.repeat(5000)}`,
      'GET http://localhost:8080/ HTTP/1.1\r\n',
    ]) {
      expect([request.slice(0, 20), detectProtocol(bytes(request))]).toEqual([request.slice(0, 20), 'http']);
    }
  });
});

describe('httpHint', () => {
  it('is a complete HTTP/1.1 400 whose body is one line naming the web port', () => {
    const response = httpHint(8090);
    const [head, body] = response.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toContain('Connection: close');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body!)}`);
    expect(body).toMatch(/^[^\n]*port 8090\.\n$/);
  });
});
