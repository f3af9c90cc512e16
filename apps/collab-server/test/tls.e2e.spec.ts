// The built server's TLS flags and its start-up warning about exposure, as users start it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeTestCertificates, waitFor, waitForPort, type TestCertificates } from '@collab/testing';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-server', 'main.js');
const children: ChildProcess[] = [];
let dataDir: string;
let certs: TestCertificates;

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [main, '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
    err += d.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  // output: both streams (log lines at warn and error go to stderr); errors: stderr alone.
  return { child, exited, output: () => out, errors: () => err };
}

/** Stops a server by pid and waits for it. */
async function stop(server: ReturnType<typeof start>): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

beforeAll(() => {
  certs = makeTestCertificates();
});

afterAll(() => certs.remove());

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-server-tls-e2e-'));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('collab-server TLS flags', () => {
  it('serves TLS with --tls-cert and --tls-key and says so at start', async () => {
    const port = await freePort();
    const server = start(['--host', '127.0.0.1', '--port', String(port), '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
    await waitForPort(port, { stillAlive: () => server.child.exitCode === null });
    await waitFor(() => server.output().includes('TLS is on'), 'the TLS line');
    expect(server.output()).toMatch(/\[INFO\] TLS is on: certificate for DNS:localhost, IP Address:127\.0\.0\.1, .*valid until \d{4}-/);
    expect(server.output()).not.toContain('[WARN]');
    await stop(server);
  });

  it('reads COLLAB_TLS_CERT and COLLAB_TLS_KEY', async () => {
    const port = await freePort();
    const server = start(['--host', '127.0.0.1', '--port', String(port)], {
      COLLAB_TLS_CERT: certs.serverCert,
      COLLAB_TLS_KEY: certs.serverKey,
    });
    await waitForPort(port, { stillAlive: () => server.child.exitCode === null });
    await waitFor(() => server.output().includes('TLS is on'), 'the TLS line');
    await stop(server);
  });

  it('exits 2 with one line when the certificate file is missing', async () => {
    const missing = join(dataDir, 'missing.pem');
    const server = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', missing, '--tls-key', certs.serverKey]);
    expect(await server.exited).toBe(2);
    const sentence = `cannot read the TLS certificate file ${missing}: ENOENT no such file or directory`;
    expect(server.output()).toBe(`[ERROR] Server error: ${sentence}\n`);
  });

  it('exits 2 when the files are not a certificate and its key', async () => {
    const garbage = join(dataDir, 'garbage.pem');
    writeFileSync(garbage, 'not PEM\n');
    const bad = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', garbage, '--tls-key', certs.serverKey]);
    expect(await bad.exited).toBe(2);
    expect(bad.errors()).toMatch(new RegExp(`^\\[ERROR\\] Server error: ${garbage} does not hold a PEM certificate: .+\n$`));
    const mismatched = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', certs.serverCert, '--tls-key', certs.selfSignedKey]);
    expect(await mismatched.exited).toBe(2);
    expect(mismatched.errors()).toBe(
      `[ERROR] Server error: the key in ${certs.selfSignedKey} does not belong to the certificate in ${certs.serverCert}\n`,
    );
  });

  it('exits 2 with a usage error when only one of --tls-cert and --tls-key is given', async () => {
    const server = start(['--host', '127.0.0.1', '--port', '0', '--tls-cert', certs.serverCert]);
    expect(await server.exited).toBe(2);
    expect(server.errors()).toBe('collab-server: --tls-cert and --tls-key go together: give both or neither\n');
  });
});

describe('collab-server exposure warning', () => {
  it('warns on --host :: without a token or TLS that anyone who can reach it can edit', async () => {
    // Listens on every interface for the moment it takes to read the start lines.
    const port = await freePort();
    const server = start(['--host', '::', '--port', String(port)]);
    await waitFor(() => server.output().includes('[WARN]') || server.child.exitCode !== null, 'the warning');
    expect(server.output()).toMatch(
      new RegExp(
        `\\[WARN\\] Listening on (\\[::\\]|0\\.0\\.0\\.0):${port} without TLS or a token: anyone who can reach this port can read and edit every document`,
      ),
    );
    await stop(server);
  });

  it('does not warn on --host 127.0.0.1', async () => {
    const port = await freePort();
    const server = start(['--host', '127.0.0.1', '--port', String(port)]);
    await waitForPort(port, { stillAlive: () => server.child.exitCode === null });
    await waitFor(() => server.output().includes('TLS is off'), 'the TLS line');
    expect(server.output()).not.toContain('[WARN]');
    await stop(server);
  });
});
