// The built collab-client against the built collab-server over TLS, with a CA and certificate
// the test makes; every server listens on a loopback address only and is stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates, waitForPort, type TestCertificates } from '@collab/testing';
import { built, freePort, startClient, stop } from './built-programs';

let certs: TestCertificates;
let dataDir: string;
let port: number;
let server: ChildProcess | undefined;

beforeAll(() => {
  certs = makeTestCertificates();
});

afterAll(() => certs.remove());

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-client-tls-'));
  port = await freePort();
});

afterEach(async () => {
  await stop(server);
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the built server with the test certificate, listening on `host` only. */
async function startTlsServer(host: string): Promise<ChildProcess> {
  const args = ['--host', host, '--port', String(port), '--data-dir', dataDir, '--log-level', 'error'];
  const child = spawn(process.execPath, [built('collab-server'), ...args, '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, { host, stillAlive: () => child.exitCode === null });
  return child;
}

describe('collab-client over TLS', () => {
  it.each(['127.0.0.1', '::1', 'localhost'])('appends and prints through %s with --ca', async (host) => {
    server = await startTlsServer(host);
    const target = ['--host', host, '--port', String(port), '--ca', certs.caCert];
    const appended = startClient([...target, '--append', `hello over TLS via ${host}`]);
    expect(await appended.exited).toBe(0);
    const printed = startClient([...target, '--print']);
    expect(await printed.exited).toBe(0);
    expect(printed.stdout()).toBe(`hello over TLS via ${host}\n`);
  });

  it('works in line mode with --tls and the CA from COLLAB_CA', async () => {
    server = await startTlsServer('127.0.0.1');
    const child = spawn(process.execPath, [built('collab-client'), '--host', '127.0.0.1', '--port', String(port), '--tls'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, COLLAB_CA: certs.caCert },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin!.end('a line\n');
    const [code] = await new Promise<[number | null]>((resolve) => child.on('exit', (c) => resolve([c])));
    expect(code).toBe(0);
    expect(out).toBe('Connected to the server. Start typing to edit the document:\n');
  });

  it('refuses a server whose CA it was not given: one sentence about trust, exit 2', async () => {
    server = await startTlsServer('127.0.0.1');
    const client = startClient(['--host', '127.0.0.1', '--port', String(port), '--tls', '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toBe(
      "collab-client: the server's certificate is not trusted: unable to verify the first certificate (use --ca FILE to trust its CA)\n",
    );
    expect(client.stdout()).toBe('');
  });

  it('fails cleanly, without hanging, when it connects without --tls to a TLS server', async () => {
    server = await startTlsServer('::1');
    const started = Date.now();
    const client = startClient(['--host', '::1', '--port', String(port), '--print', '--timeout', '5']);
    expect(await client.exited).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(client.stderr()).toMatch(/^Connection failed\. Please check the server and try again\n/);
    expect(client.stderr()).not.toMatch(/\n\s+at /);
  });

  it('fails cleanly with --tls against a server without TLS', async () => {
    const plain = spawn(
      process.execPath,
      [built('collab-server'), '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--log-level', 'error'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    server = plain;
    await waitForPort(port, { stillAlive: () => plain.exitCode === null });
    const client = startClient(['--host', '127.0.0.1', '--port', String(port), '--tls', '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toMatch(/the server does not seem to speak TLS\)\n$/);
  });

  it('says so when the --ca file cannot be read, exit 2', async () => {
    const missing = join(dataDir, 'no-such-ca.pem');
    const client = startClient(['--host', '127.0.0.1', '--port', String(port), '--ca', missing, '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toBe(`collab-client: cannot read the CA file ${missing}: ENOENT no such file or directory\n`);
  });
});
