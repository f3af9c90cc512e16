// The built echo-client against the built echo-server over TLS, with a CA and certificate the
// test makes. Each server listens on one loopback address and is stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, makeTestCertificates, waitForPort, type TestCertificates } from '@collab/testing';
import { builtApp, runBuilt } from './run-built';

let certs: TestCertificates;
const servers = new Map<string, { child: ChildProcess; port: number }>();

/** Starts the built echo-server with TLS on `host`. */
async function startTlsEchoServer(host: string) {
  const port = await freePort(host);
  const child = spawn(
    process.execPath,
    [
      builtApp('echo-server'),
      '--host',
      host,
      '--port',
      String(port),
      '--log-level',
      'error',
      '--tls-cert',
      certs.serverCert,
      '--tls-key',
      certs.serverKey,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, { host, stillAlive: () => child.exitCode === null });
  return { child, port };
}

beforeAll(async () => {
  certs = makeTestCertificates();
  for (const host of ['127.0.0.1', '::1']) servers.set(host, await startTlsEchoServer(host));
});

afterAll(async () => {
  for (const { child } of servers.values()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  certs.remove();
});

const portOf = (host: string) => String(servers.get(host)!.port);

describe('echo-client over TLS', () => {
  it.each(['127.0.0.1', '::1'])('echoes piped lines through %s with --ca', async (host) => {
    const r = await runBuilt('echo-client', [host, '--port', portOf(host), '--ca', certs.caCert], 'hello\nwörld\n');
    expect(r.stderr).toMatch(/^Connected to server at \S+ over TLSv1\.[23]\n$/);
    expect(r.stdout).toBe('Echo from server: hello\nEcho from server: wörld\n');
    expect(r.code).toBe(0);
  });

  it('checks the certificate against the name typed: localhost', async () => {
    const r = await runBuilt('echo-client', ['localhost', '--port', portOf('127.0.0.1'), '-4', '--tls', '--ca', certs.caCert], 'by name\n');
    expect(r.stdout).toBe('Echo from server: by name\n');
    expect(r.code).toBe(0);
  });

  it('runs ping mode over TLS', async () => {
    const r = await runBuilt('echo-client', ['::1', '--port', portOf('::1'), '--ca', certs.caCert, '-c', '3', '-i', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'ping', sent: 3, received: 3, lossPercent: 0 });
  });

  it('refuses the server without --ca: one sentence about trust, exit 2', async () => {
    const r = await runBuilt('echo-client', ['127.0.0.1', '--port', portOf('127.0.0.1'), '--tls', '-c', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "echo-client: the server's certificate is not trusted: unable to verify the first certificate (use --ca FILE to trust its CA)\n",
    );
    expect(r.stdout).toBe('');
  });

  it('fails cleanly, bounded by its timeout, without --tls against a TLS server', async () => {
    const started = Date.now();
    const r = await runBuilt('echo-client', ['127.0.0.1', '--port', portOf('127.0.0.1'), '-c', '1', '--timeout', '2']);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The TLS server drops the connection at the first bytes that are not a ClientHello.
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('echo-client: the server closed the connection\n');
  });

  it('fails cleanly with --tls against a plain echo server', async () => {
    const port = await freePort('127.0.0.1');
    const plain = spawn(
      process.execPath,
      [builtApp('echo-server'), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'error'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    try {
      await waitForPort(port, { stillAlive: () => plain.exitCode === null });
      const r = await runBuilt('echo-client', ['127.0.0.1', '--port', String(port), '--tls', '-c', '1', '--timeout', '2']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^echo-client: could not connect to 127\.0\.0\.1 port \d+: .*the server does not seem to speak TLS\n$/);
    } finally {
      const exited = once(plain, 'exit');
      plain.kill('SIGTERM');
      await exited;
    }
  });
});
