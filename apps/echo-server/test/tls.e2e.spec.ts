// The built echo-server's TLS flags: serving TLS, and clear start-up failures.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort, makeTestCertificates, waitFor, waitForPort, type TestCertificates } from '@collab/testing';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'echo-server', 'main.js');
const children: ChildProcess[] = [];
let certs: TestCertificates;

function start(args: string[]) {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
    err += d.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => out, errors: () => err };
}

beforeAll(() => {
  certs = makeTestCertificates();
});

afterAll(() => certs.remove());

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    await exited;
  }
});

describe('echo-server TLS flags', () => {
  it('echoes over TLS, says at start that TLS is on, and logs a client that does not speak TLS', async () => {
    const port = await freePort('::1');
    const server = start(['--host', '::1', '--port', String(port), '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
    await waitForPort(port, { host: '::1', stillAlive: () => server.child.exitCode === null });
    // The port accepts before the start lines have come through the pipe: wait for them.
    await waitFor(() => server.output().includes('[INFO] TLS is on'), 'the start lines');
    expect(server.output()).toContain(
      `[INFO] Server is listening on [::1]:${port} (IPv6)\n[INFO] TLS is on: certificate for DNS:localhost`,
    );
    const socket = tlsConnect({ host: '::1', port, ca: readFileSync(certs.caCert) });
    await once(socket, 'secureConnect');
    socket.write('secret');
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('secret');
    socket.destroy();
    const plain = connect({ host: '::1', port });
    plain.on('error', () => undefined);
    plain.write('plain text\r\n');
    await once(plain, 'close');
    await waitFor(() => server.output().includes('[WARN] TLS handshake failed with [::1]:'), 'the handshake warning');
    expect(server.child.exitCode).toBeNull();
  });

  it('exits 2 with one sentence when the key file is missing', async () => {
    const missing = join(certs.dir, 'missing.key');
    const server = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', certs.serverCert, '--tls-key', missing]);
    expect(await server.exited).toBe(2);
    expect(server.output()).toBe(`[ERROR] Server error: cannot read the TLS key file ${missing}: ENOENT no such file or directory\n`);
  });

  it('exits 2 with one sentence when the certificate file is not PEM', async () => {
    const notPem = join(certs.dir, 'not-a-certificate.pem');
    writeFileSync(notPem, 'hello\n');
    const server = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', notPem, '--tls-key', certs.serverKey]);
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(
      new RegExp(`^\\[ERROR\\] Server error: ${notPem.replace(/[.]/g, '\\.')} does not hold a PEM certificate[^\n]*\n$`),
    );
  });

  it('exits 2 with a usage error when only --tls-key is given', async () => {
    const server = start(['--host', '127.0.0.1', '--port', '0', '--tls-key', certs.serverKey]);
    expect(await server.exited).toBe(2);
    expect(server.errors()).toMatch(/^--tls-cert and --tls-key go together: give both or neither\n/);
  });
});
