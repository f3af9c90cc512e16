// ecosystem.config.js runs collab-server under PM2 (a sandbox PM2 with its own PM2_HOME,
// killed at the end): one that cannot start is left stopped with the reason in its log, not
// restarted in a loop; every COLLAB_* variable reaches it, on restart too.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort, makeTestCertificates, Pm2Sandbox, type TestCertificates } from '@collab/testing';

/** `2026-01-31T12:00:00.000+00:00: ` in front of every line PM2 logs for the app. */
const TIMESTAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d: `;
const sandboxes: Pm2Sandbox[] = [];
let blocker: Server | undefined;
let certs: TestCertificates | undefined;
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-ecosystem-'));
});

afterAll(async () => {
  // Each test's own PM2 daemon (its own PM2_HOME), never one the user runs.
  for (const pm2 of sandboxes) await pm2.kill();
  if (blocker) await new Promise((resolve) => blocker!.close(resolve));
  certs?.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

function sandbox(env: NodeJS.ProcessEnv): Pm2Sandbox {
  const pm2 = new Pm2Sandbox({ LOG_LEVEL: 'info', COLLAB_CWD: dataDir, COLLAB_HOST: '::1', ...env });
  sandboxes.push(pm2);
  return pm2;
}

it('leaves collab-server stopped, not restarting, when its port is taken, with the reason in the log', async () => {
  blocker = createServer();
  blocker.listen({ host: '::1', port: 0 });
  await once(blocker, 'listening');
  const port = (blocker.address() as { port: number }).port;
  const pm2 = sandbox({ COLLAB_PORT: String(port) });

  await pm2.start('collab-server');
  expect((await pm2.waitForStatus('collab-server', 'stopped')).exitCode).toBe(2);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(await pm2.state('collab-server')).toMatchObject({ status: 'stopped', restarts: 0 });
  const { error } = await pm2.logs('collab-server');
  expect(error).toMatch(new RegExp(`^${TIMESTAMP}\\[ERROR\\] Server error: .*port ${port} is already in use$`, 'm'));
}, 90_000);

it('passes every COLLAB_* variable to collab-server, on restart too', async () => {
  certs = makeTestCertificates();
  const port = await freePort('::1');
  const pm2 = sandbox({ COLLAB_PORT: String(port) });
  await pm2.start('collab-server');
  await pm2.waitForStatus('collab-server', 'online');

  // Settings changed the way a user does it: `COLLAB_TLS_CERT=... pm2 restart ecosystem.config.js`.
  await pm2.restart('collab-server', { COLLAB_TLS_CERT: certs.serverCert, COLLAB_TLS_KEY: certs.serverKey });
  await pm2.waitForStatus('collab-server', 'online');
  const socket = tlsConnect({ host: '::1', port, ca: readFileSync(certs.caCert) });
  try {
    await once(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
  } finally {
    socket.destroy();
  }
  const { out } = await pm2.logs('collab-server');
  expect(out).toMatch(new RegExp(`^${TIMESTAMP}\\[INFO\\] TLS is on: `, 'm'));
}, 90_000);
