// One port, two protocols (as Redis serves RESP and inline commands, and memcached its text and
// binary protocols): a new connection's first bytes tell a framed client from a plain-text one.
//   - A framed client speaks first, and its first frame is HELLO: a 4-byte big-endian length whose
//     first byte is 0x00 for any frame under 16 MiB.
//   - A plain-text client (nc, telnet, the assignment's client.py) either sends text first, or
//     says nothing and waits for the document (client.py does): after TEXT_AFTER_SILENCE_MS of
//     silence the connection is taken as plain text.
//   - A browser or any HTTP client pointed at the port sends a request line: it is answered with
//     a one-line hint to use the web port and closed, so a web page cannot make a browser type
//     into the document (a cross-protocol attack; Redis refuses `POST` and `Host:` for the same reason).
// Telnet's commands (IAC, 0xFF) mean plain text too; anything else goes to the frame decoder,
// which refuses it with the matching ERROR as before (a TLS ClientHello, a frame far too large).

/** How long a new connection may stay silent before it is taken as a plain-text client. */
export const TEXT_AFTER_SILENCE_MS = 300;

/** The port the hint to browsers names: the web editor's (collab-server's WebSocket and web port). */
export const DEFAULT_WEB_PORT = 8090;

/** What a connection's first bytes say it speaks. */
export type FirstBytes = 'framed' | 'text' | 'http';

const IAC = 0xff;

// A whole HTTP request line (any method, HTTP/2's preface included), or the start of one a
// browser sends whose line did not fit the first read (a very long URL): a method and an
// origin-form or absolute-form target. A person whose first line starts like that is told the same.
const REQUEST_LINE = /^[A-Z]{3,10} \S+ HTTP\/\d/;
const REQUEST_START = /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|TRACE) (?:\/|https?:\/\/)/;

/** Whether a byte may start a line someone typed: printable ASCII, tab, CR, LF, or a UTF-8 lead byte. */
function startsText(byte: number): boolean {
  return byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte <= 0x7e) || (byte >= 0xc2 && byte <= 0xf4);
}

/** What `first` (a connection's first bytes, at least one) says the client speaks. */
export function detectProtocol(first: Uint8Array): FirstBytes {
  const byte = first[0]!;
  if (byte === IAC) return 'text';
  if (!startsText(byte)) return 'framed';
  const end = first.indexOf(0x0a);
  const line = Buffer.from(first.buffer, first.byteOffset, end === -1 ? Math.min(first.length, 512) : end).toString('latin1');
  return REQUEST_LINE.test(line) || REQUEST_START.test(line) ? 'http' : 'text';
}

/** The whole answer to an HTTP request on this port: a 400 whose body is one line pointing at the web port. */
export function httpHint(webPort: number): string {
  const body = `This is collab-server's editing port, for collab-client, nc and telnet, not a web server: the web editor is on port ${webPort}.\n`;
  return (
    'HTTP/1.1 400 Bad Request\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n' +
    '\r\n' +
    body
  );
}
