// The web port against real clients on real sockets: the standard y-websocket provider (in Node,
// over `ws`) together with our TCP clients, and everything a bad client can send it.
import { once } from 'node:events';
import { get } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { makeTestCertificates, type TestCertificates } from '@collab/testing';
import { ErrorCode, MessageType, SyncType, encodeMessage } from '@collab/collab-protocol';
import { parseOriginPolicy } from '../src/web/origin-policy';
import { cleanup, connectClient, waitFor } from './harness';
import { clientFrame, provider, rawUpgrade, rawWs, startWebServer, synced, wsCleanup } from './ws-harness';

afterEach(async () => {
  await wsCleanup();
  await cleanup();
});

const text = (doc: Y.Doc) => doc.getText('content').toString();
const update = (insert: string, clientId = 77) => {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  doc.getText('content').insert(0, insert);
  return encodeMessage({ type: MessageType.Sync, syncType: SyncType.Update, data: Y.encodeStateAsUpdate(doc) });
};

function httpGet(
  port: number,
  path: string,
  host = '127.0.0.1',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host, port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('WebSocket endpoint', () => {
  it('lets the standard y-websocket provider and a TCP client edit one document and converge, presence both ways', async () => {
    const { port, webPort } = await startWebServer();
    const browserDoc = new Y.Doc();
    const p = provider(webPort, 'temp', browserDoc, { name: 'web-ann' });
    await synced(p);
    const tcp = await connectClient(port, { name: 'tcp-bob' });
    tcp.awareness.setLocalStateField('user', { name: 'tcp-bob', color: '#98c379' });
    browserDoc.getText('content').insert(0, 'from the web ');
    tcp.doc.getText('content').insert(0, 'from TCP ');
    await waitFor(() => text(browserDoc) === tcp.text() && tcp.text().length === 22, 'convergence');
    const names = (states: Map<number, { user?: { name?: string } }>) => [...states.values()].map((s) => s.user?.name).sort();
    await waitFor(() => names(p.awareness.getStates() as never).includes('tcp-bob'), 'the TCP user on the web');
    await waitFor(() => names(tcp.awareness.getStates() as never).includes('web-ann'), 'the web user on TCP');
    await tcp.session.whenSaved();
  });

  it('serves clients on 127.0.0.1 and ::1 on one dual-stack port, documents kept apart by the path', async () => {
    const { webPort, server, dataDir } = await startWebServer();
    const a = new Y.Doc();
    const b = new Y.Doc();
    const other = new Y.Doc();
    const pa = provider(webPort, 'notes', a, { host: '127.0.0.1' });
    const pb = provider(webPort, 'notes', b, { host: '::1' });
    const po = provider(webPort, 'temp', other);
    await Promise.all([synced(pa), synced(pb), synced(po)]);
    a.getText('content').insert(0, 'over IPv4 ');
    b.getText('content').insert(0, 'over IPv6 ');
    await waitFor(() => text(a) === text(b) && text(a).length === 20, 'convergence');
    expect(text(other)).toBe('');
    pa.destroy();
    pb.destroy();
    po.destroy();
    await server.close();
    expect(readFileSync(`${dataDir}/notes.txt`, 'utf8')).toBe(text(a));
  });

  it('sends ACK only to a client that asked for it (?ack=1), once the edit is stored', async () => {
    const { webPort } = await startWebServer();
    const plain = rawWs(`ws://127.0.0.1:${webPort}/temp`);
    const acking = rawWs(`ws://127.0.0.1:${webPort}/temp?ack=1`);
    await Promise.all([plain.opened, acking.opened]);
    plain.ws.send(update('plain', 1));
    acking.ws.send(update('acked', 2));
    const ackOf = (messages: Buffer[]) =>
      messages.filter((m) => m[0] === MessageType.Ack).map((m) => decoding.readVarUint(decoding.createDecoder(m.subarray(1))));
    await waitFor(() => ackOf(acking.messages).length === 1, 'ACK');
    expect(ackOf(acking.messages)).toEqual([1]);
    await waitFor(() => plain.messages.some((m) => m[0] === MessageType.Sync && m[1] === SyncType.Update), 'the other edit');
    expect(ackOf(plain.messages)).toEqual([]);
  });

  it('relays each update to every other client byte for byte, in frames of each length form (7, 16 and 64 bits)', async () => {
    const { webPort } = await startWebServer();
    const author = rawWs(`ws://127.0.0.1:${webPort}/temp`);
    const readers = [rawWs(`ws://127.0.0.1:${webPort}/temp`), rawWs(`ws://127.0.0.1:${webPort}/temp`)];
    await Promise.all([author.opened, ...readers.map((r) => r.opened)]);
    const doc = new Y.Doc();
    doc.clientID = 5;
    const sent: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => sent.push(encodeMessage({ type: MessageType.Sync, syncType: SyncType.Update, data: u })));
    // Messages of under 126 bytes, of 126 to 65,535, and of more.
    for (const length of [10, 1000, 100_000]) doc.getText('content').insert(0, 'x'.repeat(length));
    expect(sent.map((m) => m.length > 125 && (m.length > 65535 ? 64 : 16))).toEqual([false, 16, 64]);
    for (const m of sent) author.ws.send(m);
    const relayed = (r: (typeof readers)[number]) => r.messages.filter((m) => m[0] === MessageType.Sync && m[1] === SyncType.Update);
    await waitFor(() => readers.every((r) => relayed(r).length === 3), 'the three updates at both readers');
    for (const r of readers)
      expect(relayed(r).map((m) => Buffer.from(m).toString('hex'))).toEqual(sent.map((m) => Buffer.from(m).toString('hex')));
    expect(relayed(author)).toEqual([]);
  });

  it('keeps a lone y-websocket client from timing out: an empty AWARENESS when nothing was sent for a while', async () => {
    const { webPort } = await startWebServer({}, { keepAliveMs: 100 });
    const client = rawWs(`ws://127.0.0.1:${webPort}/temp`);
    await client.opened;
    await waitFor(() => client.messages.some((m) => m.equals(Buffer.from([1, 1, 0]))), 'a keep-alive');
  });

  describe('the token', () => {
    it('is read from ?token= at the upgrade: refused with HTTP 401 before any document is opened', async () => {
      const { webPort, server, lines } = await startWebServer({ token: 'right' });
      expect(await rawWs(`ws://127.0.0.1:${webPort}/secret-doc`).refused).toBe(401);
      expect(await rawWs(`ws://127.0.0.1:${webPort}/secret-doc?token=guess-xyz`).refused).toBe(401);
      expect(server.collab.documents.names).not.toContain('secret-doc');
      expect(
        lines.some((l) => /^\[WARN\] Refused a WebSocket from 127\.0\.0\.1:\d+ for \/secret-doc: .*token.* \(HTTP 401\)$/.test(l)),
      ).toBe(true);
      expect(lines.join('\n')).not.toContain('guess-xyz');
      const doc = new Y.Doc();
      await synced(provider(webPort, 'secret-doc', doc, { params: { token: 'right' } }));
      expect(server.collab.documents.names).toContain('secret-doc');
    });

    it('makes an address that keeps sending wrong tokens wait (HTTP 429), as HELLO does', async () => {
      const { webPort, port } = await startWebServer({ token: 'right', authFailuresAllowed: 1 });
      for (let i = 0; i < 2; i++) expect(await rawWs(`ws://127.0.0.1:${webPort}/temp?token=guess${i}`).refused).toBe(401);
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp?token=right`).refused).toBe(429);
      const tcp = await connectClient(port, { token: 'right', wait: false });
      const [end] = (await once(tcp.session, 'end')) as [{ refusal?: { code: number } }];
      expect(end.refusal?.code).toBe(ErrorCode.AuthFailed);
    });
  });

  describe('origins', () => {
    it("lets in pages of the server's own origin and clients without an Origin, and refuses other pages with 403", async () => {
      const { webPort, lines } = await startWebServer();
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp`, { origin: 'http://evil.example' }).refused).toBe(403);
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp`, { origin: `http://127.0.0.1:${webPort}` }).opened).toBe(true);
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp`).opened).toBe(true);
      expect(lines.some((l) => l.includes('origin "http://evil.example" is not allowed (--allow-origin). (HTTP 403)'))).toBe(true);
    });

    it('lets in the origins of --allow-origin besides its own', async () => {
      const { webPort } = await startWebServer({}, { origins: parseOriginPolicy('https://notes.example.org') });
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp`, { origin: 'https://notes.example.org' }).opened).toBe(true);
      expect(await rawWs(`ws://127.0.0.1:${webPort}/temp`, { origin: 'https://other.example.org' }).refused).toBe(403);
    });
  });

  describe('limits, the same as on TCP', () => {
    it('refuses the client past --max-clients, TCP and WebSocket counted together (close 4501)', async () => {
      const { port, webPort, lines } = await startWebServer({ maxClients: 2 });
      await connectClient(port);
      const web = rawWs(`ws://127.0.0.1:${webPort}/temp`);
      await web.opened;
      await waitFor(() => web.messages.length > 0, 'the first client joined');
      const third = rawWs(`ws://127.0.0.1:${webPort}/temp`);
      expect(await third.closed).toEqual({ code: 4501, reason: 'Server is full. Please try again later.' });
      expect(lines).toContain(
        `[WARN] Server full. Rejected connection from ${lines.find((l) => l.startsWith('[WARN] Server full'))!.split('from ')[1]}`,
      );
    });

    it('refuses connections past --max-connections-per-address', async () => {
      const { webPort } = await startWebServer({ maxConnectionsPerAddress: 1 });
      await rawWs(`ws://127.0.0.1:${webPort}/temp`).opened;
      const second = rawWs(`ws://127.0.0.1:${webPort}/temp`);
      expect((await second.closed).code).toBe(4501);
      expect(await rawWs(`ws://[::1]:${webPort}/temp`).opened).toBe(true);
    });

    it('closes a client silent past the idle timeout (close 4508)', async () => {
      const { webPort } = await startWebServer({ idleTimeoutMs: 200 }, { keepAliveMs: 3_600_000 });
      const client = rawWs(`ws://127.0.0.1:${webPort}/temp`, { autoPong: false });
      expect(await client.closed).toEqual({ code: 4508, reason: 'Nothing received for 0.2 s; closing the connection.' });
    });

    it('refuses a message larger than --max-frame before reading it (close 1009) and logs it', async () => {
      const { webPort, lines } = await startWebServer({ maxFrameBytes: 4096 });
      const client = rawWs(`ws://127.0.0.1:${webPort}/temp`);
      await client.opened;
      client.ws.send(Buffer.alloc(5000, 0));
      expect((await client.closed).code).toBe(1009);
      await waitFor(
        () => lines.some((l) => /^\[WARN\] Closed the WebSocket of client 127\.0\.0\.1:\d+: Max payload size exceeded/.test(l)),
        'the [WARN]',
      );
    });

    it('says goodbye with 1001 when the server shuts down', async () => {
      const { webPort, server } = await startWebServer();
      const client = rawWs(`ws://127.0.0.1:${webPort}/temp`);
      await client.opened;
      await waitFor(() => client.messages.length > 0, 'joined');
      const closed = client.closed;
      await server.close();
      expect(await closed).toEqual({ code: 1001, reason: 'The server is shutting down.' });
    });
  });

  describe('bad input: a close code and a [WARN], never a crash', () => {
    it('closes on a frame no WebSocket may send: a reserved opcode, an unmasked frame (1002)', async () => {
      const { webPort, lines, port } = await startWebServer();
      const reserved = await rawUpgrade(webPort);
      expect(reserved.status).toMatch(/^HTTP\/1\.1 101/);
      reserved.write(clientFrame(0x83, Buffer.from([1, 2, 3])));
      expect(await reserved.closeCode()).toBe(1002);
      const unmasked = await rawUpgrade(webPort);
      unmasked.write([0x82, 0x01, 0x00]);
      expect(await unmasked.closeCode()).toBe(1002);
      expect(lines.filter((l) => l.startsWith('[WARN] Closed the WebSocket of client')).length).toBe(2);
      // Still serving, on both ports.
      await synced(provider(webPort, 'temp'));
      await connectClient(port);
    });

    it('closes on a message announced as huge, without buffering it (1009)', async () => {
      const { webPort } = await startWebServer();
      const huge = await rawUpgrade(webPort);
      // Binary frame, 64-bit length 2^40, masked: refused on its header.
      huge.write([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
      expect(await huge.closeCode()).toBe(1009);
    });

    it('closes on a text message, on a message that is not the protocol, and on a Yjs update that cannot be applied (4503)', async () => {
      const { webPort, lines } = await startWebServer();
      for (const bad of ['hello', Buffer.from([0x42, 1, 2]), Buffer.from([0, 2, 5, 1, 2, 3, 4, 5])]) {
        const client = rawWs(`ws://127.0.0.1:${webPort}/temp`);
        await client.opened;
        client.ws.send(bad);
        const closed = await client.closed;
        expect(closed.code).toBe(4503);
        expect(closed.reason.length).toBeGreaterThan(0);
      }
      expect(lines.filter((l) => /^\[WARN\] Sent ERROR 3 to client/.test(l)).length).toBe(3);
    });

    it('closes a WebSocket whose path is not a document (4406), and answers 404 to such a page', async () => {
      const { webPort, lines, server } = await startWebServer();
      for (const path of ['/a/b', '/.hidden', `/${'x'.repeat(65)}`, '/%E0%A4%A', '/']) {
        const closed = await rawWs(`ws://127.0.0.1:${webPort}${path}`).closed;
        expect(closed.code).toBe(4406);
      }
      expect(lines.filter((l) => /^\[WARN\] Refused a WebSocket from .*\(close 4406\)$/.test(l)).length).toBe(5);
      expect(server.collab.documents.names.filter((name) => name !== 'temp')).toEqual([]);
      const page = await httpGet(webPort, '/a/b');
      expect(page.status).toBe(404);
      expect(lines.some((l) => l.startsWith('[WARN] No such page: GET /a/b from 127.0.0.1:'))).toBe(true);
      // Assets are served from memory by name: no path reaches a file.
      expect((await httpGet(webPort, '/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    });

    it('answers 400 to an upgrade that is not a WebSocket handshake', async () => {
      const { webPort, lines } = await startWebServer();
      const status = await new Promise<number>((resolve) => {
        get({ host: '127.0.0.1', port: webPort, path: '/temp', headers: { Connection: 'Upgrade', Upgrade: 'websocket' } })
          .on('response', (res) => resolve(res.statusCode ?? 0))
          .on('error', () => resolve(-1));
      });
      expect(status).toBe(400);
      expect(lines.some((l) => l.startsWith('[WARN] Refused a WebSocket upgrade from 127.0.0.1:'))).toBe(true);
    });
  });

  describe('the web editor', () => {
    it('serves the page at /NAME and / with a strict content security policy, and its assets', async () => {
      const { webPort } = await startWebServer();
      for (const path of ['/', '/temp', '/notes.md']) {
        const page = await httpGet(webPort, path);
        expect(page.status).toBe(200);
        expect(page.body).toContain('stand-in editor');
        expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
      }
      const script = await httpGet(webPort, '/assets/editor.js');
      expect(script.status).toBe(200);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect((await httpGet(webPort, '/assets/index.html')).status).toBe(404);
    });

    it('asks for the token on a page when the server has one', async () => {
      const { webPort } = await startWebServer({ token: 'right', authFailuresAllowed: 10 });
      const refused = await httpGet(webPort, '/notes');
      expect(refused.status).toBe(401);
      expect(refused.body).toContain('This server needs a token.');
      expect(refused.body).toContain('<form method="get" action="/notes">');
      expect((await httpGet(webPort, '/notes?token=wrong')).body).toContain('That token is wrong.');
      expect((await httpGet(webPort, '/notes?token=right')).body).toContain('stand-in editor');
    });

    it('answers 503 for pages when the editor is not built, and still serves WebSockets', async () => {
      const { webPort, lines } = await startWebServer({}, { webRoot: '/nonexistent/collab-web' });
      expect((await httpGet(webPort, '/temp')).status).toBe(503);
      expect(lines.some((l) => l.startsWith('[WARN] The web editor is not built'))).toBe(true);
      await synced(provider(webPort, 'temp'));
    });
  });

  describe('TLS', () => {
    let certs: TestCertificates;
    beforeAll(() => (certs = makeTestCertificates()));
    afterAll(() => certs.remove());

    it('serves wss:// and https:// with the same certificate as the TCP port', async () => {
      const tls = { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) };
      const { webPort, lines } = await startWebServer({ tls });
      const ca = readFileSync(certs.caCert);
      const client = rawWs(`wss://localhost:${webPort}/temp`, { ca, origin: `https://localhost:${webPort}` });
      await client.opened;
      await waitFor(() => client.messages.some((m) => m[0] === MessageType.Sync && m[1] === SyncType.Step1), 'sync step 1 over wss');
      const status = await new Promise<number>((resolve, reject) =>
        httpsRequest({ host: 'localhost', port: webPort, path: '/temp', ca }, (res) => resolve(res.statusCode ?? 0))
          .on('error', reject)
          .end(),
      );
      expect(status).toBe(200);
      expect(lines.some((l) => l.includes(`https://localhost:${webPort}/temp`) && l.includes(`wss://HOST:${webPort}/NAME`))).toBe(true);
    });
  });
});
