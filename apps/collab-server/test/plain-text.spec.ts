// Plain-text clients on the collab port, next to framed ones: the assignment's own client.py (run
// with python3 as written, stdin piped), raw sockets as nc and telnet would use them, a browser's
// HTTP request, and connections that say nothing (slowloris).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { ErrorCode, MessageType, type ErrorMessage } from '@collab/collab-protocol';
import { seedClientPath } from '@collab/testing';
import { cleanup, connectClient, rawClient, startServer, waitFor, type TestClient } from './harness';

const children: ChildProcess[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) socket.destroy();
  await cleanup();
});

const errorOf = (messages: readonly { type: MessageType }[]) => messages.find((m): m is ErrorMessage => m.type === MessageType.Error);

/** The assignment's client.py, exactly as written, with its stdin piped: type() is a person typing a line. */
function assignmentClient(port: number) {
  const child = spawn('python3', [seedClientPath('collab_client.py'), String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => output, type: (line: string) => child.stdin!.write(`${line}\n`) };
}

/** A raw TCP socket, as nc uses one: lines in, whatever the server sends out as text. */
async function ncClient(port: number, host = '127.0.0.1') {
  const socket = connect({ host, port });
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let output = '';
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => {
    received.push(d);
    output += d.toString('utf8');
  });
  const closed = once(socket, 'close');
  return { socket, closed, received, output: () => output, type: (line: string) => socket.write(`${line}\n`) };
}

async function append(client: TestClient, line: string): Promise<void> {
  const text = client.doc.getText('content');
  text.insert(text.length, `${line}\n`);
  await client.session.whenSaved();
}

describe("the assignment's client.py", () => {
  it('is sent the document, appends what is typed (stored, in temp.txt), and shows others\' lines as "Document updated: ..."', async () => {
    const { port, dataDir, lines, server } = await startServer();
    const ann = await connectClient(port, { name: 'ann' });
    await append(ann, 'written before');
    const py = assignmentClient(port);
    await waitFor(() => py.output().includes('Document updated: written before\n'), 'client.py shows the document');
    expect(py.output().startsWith('Connected to the server. Start typing to edit the document:\n')).toBe(true);

    py.type('typed in client.py');
    await waitFor(() => ann.text() === 'written before\ntyped in client.py\n', "client.py's line reaches a framed client");
    await append(ann, 'answer from ann');
    await waitFor(() => py.output().includes('Document updated: answer from ann\n'), "ann's line reaches client.py");
    py.type('and one more');
    await waitFor(() => ann.text().endsWith('answer from ann\nand one more\n'), 'the second line');
    // client.py's own lines are never sent back to it.
    expect(py.output()).not.toContain('typed in client.py');

    const expected = 'written before\ntyped in client.py\nanswer from ann\nand one more\n';
    await waitFor(() => readFileSync(join(dataDir, 'temp.txt'), 'utf8') === expected, 'temp.txt holds every line');
    expect(lines.some((l) => /^\[INFO\] New client connected: text \(127\.0\.0\.1:\d+\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[UPDATE\] Document updated by text \(127\.0\.0\.1:\d+\): typed in client\.py$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[INFO\] Broadcasted update to client text \(127\.0\.0\.1:\d+\)$/.test(l))).toBe(true);

    py.child.stdin!.end();
    expect(await py.exited).toBe(0);
    await waitFor(() => lines.some((l) => /^\[INFO\] Client text \(127\.0\.0\.1:\d+\) disconnected$/.test(l)), 'the disconnect line');
    // Stored in the update log: a restarted server has every line.
    await server.close();
    const again = await startServer({ dataDir });
    expect((await connectClient(again.port)).text()).toBe(expected);
  }, 30_000);

  it('is told "Server is full. Please try again later." as text when the framed clients fill the server', async () => {
    const { port } = await startServer({ maxClients: 1 });
    await connectClient(port);
    const py = assignmentClient(port);
    await waitFor(() => py.output().includes('Document updated: Server is full. Please try again later.\n'), 'the refusal');
    py.child.stdin!.end();
    expect(await py.exited).toBe(0);
  });

  it('sends AUTH <token> as its first line when the server has a token', async () => {
    const { port } = await startServer({ token: 's3cret' });
    const ann = await connectClient(port, { token: 's3cret' });
    await append(ann, 'for members only');
    const py = assignmentClient(port);
    await waitFor(() => py.output().includes('send AUTH <token> as the first line'), 'the request for a token');
    py.type('AUTH s3cret');
    await waitFor(() => py.output().includes('Document updated: for members only\n'), 'the document, once in');
    py.type('a member speaks');
    await waitFor(() => ann.text() === 'for members only\na member speaks\n', 'its line');
  }, 20_000);
});

describe('a raw TCP client (nc, telnet)', () => {
  it("sends text first, is sent the document, has its lines appended, and reads others' changes as text", async () => {
    const { port, lines } = await startServer();
    const ann = await connectClient(port, { name: 'ann' });
    await append(ann, 'line one');
    const nc = await ncClient(port);
    nc.type('hello from nc');
    await waitFor(() => ann.text() === 'line one\nhello from nc\n', 'its line');
    expect(nc.output()).toBe('line one\n');
    await append(ann, 'from ann');
    await waitFor(() => nc.output() === 'line one\nfrom ann\n', "ann's line, as it is");
    // A change elsewhere is said with its line number, once the line has been still for a second.
    ann.doc.getText('content').insert('line one'.length, ' (edited)');
    await waitFor(() => nc.output().endsWith('(line 1): line one (edited)\n'), 'the changed line');
    expect(lines.some((l) => /^\[UPDATE\] Document updated by text \(127\.0\.0\.1:\d+\): hello from nc$/.test(l))).toBe(true);
  });

  it("is in the others' presence lists, named as in the log, until it leaves", async () => {
    const { port } = await startServer();
    const ann = await connectClient(port, { name: 'ann' });
    const nc = await ncClient(port);
    nc.type('here');
    await waitFor(() => ann.text() === 'here\n', 'its line');
    const label = `text (127.0.0.1:${nc.socket.localPort})`;
    const names = () => [...ann.awareness.getStates().values()].map((s) => (s as { user?: { name?: string } }).user?.name);
    await waitFor(() => names().includes(label), 'its presence');
    // A framed client that comes later is sent it with everyone else's.
    const bob = await connectClient(port, { name: 'bob' });
    await waitFor(
      () => [...bob.awareness.getStates().values()].some((s) => (s as { user?: { name?: string } }).user?.name === label),
      'its presence, for bob',
    );
    nc.socket.end();
    await waitFor(() => !names().includes(label), 'its presence gone');
  });

  it('that says nothing is a plain-text client after 300 ms, over IPv6 too, and is sent the document', async () => {
    const { port, server } = await startServer();
    const ann = await connectClient(port);
    await append(ann, 'for a silent reader');
    for (const host of ['127.0.0.1', '::1']) {
      const reader = await ncClient(port, host);
      await waitFor(() => reader.output() === 'for a silent reader\n', `the document, on ${host}`);
    }
    expect(server.clientCount).toBe(3);
  });

  it('takes a line bare of any line break, as client.py sends it, once nothing more comes', async () => {
    const { port } = await startServer();
    const ann = await connectClient(port);
    const nc = await ncClient(port);
    nc.socket.write('no line break');
    await waitFor(() => ann.text() === 'no line break\n', 'the bare line');
  });

  it('as telnet: options refused, commands skipped, CR LF lines appended', async () => {
    const { port } = await startServer();
    const ann = await connectClient(port);
    const telnet = await ncClient(port);
    const IAC = 0xff;
    // DO ECHO, WILL NAWS, and the window size telnet sends after WILL NAWS.
    telnet.socket.write(Buffer.from([IAC, 0xfd, 1, IAC, 0xfb, 31, IAC, 0xfa, 31, 0, 80, 0, 24, IAC, 0xf0]));
    telnet.socket.write('typed in telnet\r\n');
    await waitFor(() => ann.text() === 'typed in telnet\n', 'the line');
    await waitFor(() => Buffer.concat(telnet.received).includes(Buffer.from([IAC, 0xfc, 1, IAC, 0xfe, 31])), 'WONT ECHO, DONT NAWS');
  });

  it('past the per-address limit is refused in its own language, as a framed client is in frames', async () => {
    const { port } = await startServer({ maxConnectionsPerAddress: 1 });
    await connectClient(port);
    const nc = await ncClient(port);
    nc.type('let me in');
    await nc.closed;
    expect(nc.output()).toBe('Too many connections from 127.0.0.1. Please try again later.\n');
    const framed = await rawClient(port);
    framed.hello();
    await framed.closed;
    expect(errorOf(framed.messages)?.code).toBe(ErrorCode.ServerFull);
  });

  it('needs AUTH <token> first with a token: one line of error and closed otherwise', async () => {
    const { port } = await startServer({ token: 's3cret' });
    const ann = await connectClient(port, { token: 's3cret' });
    const wrong = await ncClient(port);
    wrong.type('AUTH guess');
    await wrong.closed;
    expect(wrong.output()).toBe('This server needs a token: send AUTH <token> as the first line.\nAuthentication failed: wrong token.\n');
    const member = await ncClient(port);
    member.type('AUTH s3cret');
    member.type('in at last');
    await waitFor(() => ann.text() === 'in at last\n', 'its line');
  });
});

describe('an HTTP request on the collab port', () => {
  it('gets a 400 whose one line points at the web port, and is closed; nothing reaches the document', async () => {
    const { port, lines } = await startServer();
    const ann = await connectClient(port);
    await append(ann, 'untouched');
    const response = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/^[^\n]*the web editor is on port 8090\.\n$/);
    // A web page making the browser POST lines at the port: none of them reaches the document.
    const attack = await ncClient(port);
    attack.socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\ninjected line\n');
    await attack.closed;
    expect(attack.output()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(lines.some((l) => /^\[WARN\] HTTP request from 127\.0\.0\.1:\d+ on the editing port/.test(l))).toBe(true);
    await append(ann, 'still editing');
    expect(ann.text()).toBe('untouched\nstill editing\n');
  });
});

describe('connections that say nothing (slowloris)', () => {
  it('with a token, never count as clients: they wait for AUTH as others wait for HELLO', async () => {
    const { port, server } = await startServer({ token: 's3cret', maxClients: 2, maxConnectionsPerAddress: 0 });
    const silent: Array<Awaited<ReturnType<typeof ncClient>>> = [];
    for (let i = 0; i < 200; i++) silent.push(await ncClient(port, i % 2 ? '::1' : '127.0.0.1'));
    await waitFor(() => silent.every((s) => s.output().startsWith('This server needs a token')), 'every one a plain-text connection');
    const a = await connectClient(port, { token: 's3cret' });
    const b = await connectClient(port, { token: 's3cret', host: '::1' });
    await append(a, 'still editing');
    await waitFor(() => b.text() === 'still editing\n', 'relay despite the silent crowd');
    expect(server.clientCount).toBe(2);
  }, 30_000);

  it('without a token, count as clients once in, like a framed client that said HELLO, until the idle timeout', async () => {
    const { port, server } = await startServer({ maxClients: 2, idleTimeoutMs: 600 });
    const silent = [await ncClient(port), await ncClient(port)];
    await waitFor(() => server.clientCount === 2, 'two silent plain-text clients in');
    const refused = await rawClient(port);
    refused.hello();
    await refused.closed;
    expect(errorOf(refused.messages)?.code).toBe(ErrorCode.ServerFull);
    await Promise.all(silent.map((s) => s.closed));
    expect(silent[0]!.output()).toBe('Nothing received for 0.6 s; closing the connection.\n');
    await waitFor(() => server.clientCount === 0, 'the server to count them gone');
    const a = await connectClient(port);
    expect(a.session.isSynced).toBe(true);
  });
});
