// The collab server over TLS, in this process: clients connect with connectTls and the test CA.
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { connectTls, loadCertificateAuthority, loadServerCredentials, type ServerCredentials } from '@collab/address';
import { CollabSession } from '@collab/collab-protocol';
import { makeTestCertificates, type TestCertificates } from '@collab/testing';
import { cleanup, rawClient, startServer, waitFor } from './harness';

let certs: TestCertificates;
let credentials: ServerCredentials;
let ca: Buffer;

beforeAll(async () => {
  certs = makeTestCertificates();
  credentials = await loadServerCredentials(certs.serverCert, certs.serverKey);
  ca = await loadCertificateAuthority(certs.caCert);
});

afterAll(() => certs.remove());
afterEach(cleanup);

const opened: Array<{ session: CollabSession; awareness: Awareness }> = [];
afterEach(() => {
  for (const { session, awareness } of opened.splice(0)) {
    session.close();
    awareness.destroy();
  }
});

/** A synced protocol client over TLS. */
async function tlsClient(port: number, host: string) {
  const { socket } = await connectTls({ host, port, tls: { ca } });
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  const session = new CollabSession(socket, { document: 'temp', clientName: 'tls', doc, awareness });
  opened.push({ session, awareness });
  await session.whenSynced();
  return { doc, text: () => doc.getText('content').toString() };
}

describe('collab server over TLS', () => {
  it('says at start that TLS is on, and relays edits between TLS clients on 127.0.0.1 and localhost', async () => {
    const { port, lines } = await startServer({ host: '127.0.0.1', tls: credentials });
    expect(lines).toContain(`[INFO] TLS is on: ${credentials.summary}`);
    expect(lines.some((l) => l.startsWith('[WARN]'))).toBe(false); // loopback: nothing to warn about
    const a = await tlsClient(port, '127.0.0.1');
    const b = await tlsClient(port, 'localhost');
    a.doc.getText('content').insert(0, 'over TLS');
    await waitFor(() => b.text() === 'over TLS', 'the edit to reach b');
  });

  it('logs a client that does not speak TLS, never counts it, and keeps serving', async () => {
    const { server, port, lines } = await startServer({ host: '127.0.0.1', tls: credentials, maxClients: 1 });
    for (let i = 0; i < 3; i++) {
      const raw = await rawClient(port);
      raw.hello();
      await raw.closed;
    }
    expect(lines.filter((l) => /^\[WARN\] TLS handshake failed with 127\.0\.0\.1:\d+: ERR_SSL_\w+ /.test(l))).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('[INFO] Accepted connection'))).toBe(false);
    expect(server.clientCount).toBe(0);
    // maxClients is 1: the failed handshakes took no place from a real client.
    const c = await tlsClient(port, '127.0.0.1');
    expect(c.text()).toBe('');
    expect(server.clientCount).toBe(1);
  });

  it('logs a connection that leaves before its handshake at debug level only', async () => {
    const { port, lines } = await startServer({ host: '127.0.0.1', tls: credentials });
    const raw = await rawClient(port);
    raw.socket.destroy();
    await waitFor(() => lines.some((l) => l.startsWith('[DEBUG] TLS handshake failed with 127.0.0.1:')), 'the debug line');
    expect(lines.some((l) => l.startsWith('[WARN] TLS handshake'))).toBe(false);
  });

  it('says TLS is off when it is', async () => {
    const { lines } = await startServer({ host: '127.0.0.1' });
    expect(lines).toContain('[INFO] TLS is off: connections are not encrypted');
  });
});
