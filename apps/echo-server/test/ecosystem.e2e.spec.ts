// ecosystem.config.js under PM2 (a sandbox PM2 with its own PM2_HOME, killed at the end):
// a server that cannot start is left stopped with the reason in its log, not restarted in a
// loop; every ECHO_* variable reaches the server, on restart too; log lines carry timestamps.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { freePort, makeTestCertificates, Pm2Sandbox, type TestCertificates } from '@collab/testing';

/** `2026-01-31T12:00:00.000+00:00: ` in front of every line PM2 logs for the app. */
const TIMESTAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d: `;
const sandboxes: Pm2Sandbox[] = [];
let blocker: Server | undefined;
let certs: TestCertificates | undefined;

function sandbox(env: NodeJS.ProcessEnv): Pm2Sandbox {
  const pm2 = new Pm2Sandbox({ LOG_LEVEL: 'info', ...env });
  sandboxes.push(pm2);
  return pm2;
}

afterAll(async () => {
  // Each test's own PM2 daemon (its own PM2_HOME), never one the user runs.
  for (const pm2 of sandboxes) await pm2.kill();
  if (blocker) await new Promise((resolve) => blocker!.close(resolve));
  certs?.remove();
});

it('leaves echo-server stopped, not restarting, when its port is taken, with the reason in the log', async () => {
  blocker = createServer();
  blocker.listen({ host: '::1', port: 0 });
  await once(blocker, 'listening');
  const port = (blocker.address() as { port: number }).port;
  const pm2 = sandbox({ ECHO_HOST: '::1', ECHO_PORT: String(port) });

  await pm2.start('echo-server');
  const stopped = await pm2.waitForStatus('echo-server', 'stopped');
  expect(stopped.exitCode).toBe(2);
  // Long enough for several restarts had PM2 been restarting it (there is no delay between them).
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const later = await pm2.state('echo-server');
  expect(later).toMatchObject({ status: 'stopped', restarts: 0 });
  const { error } = await pm2.logs('echo-server');
  expect(error).toMatch(
    new RegExp(`^${TIMESTAMP}\\[ERROR\\] Server error: cannot listen on \\[::1\\]:${port}: port ${port} is already in use\\n$`),
  );
}, 90_000);

it('passes every ECHO_* variable to echo-server, on restart too, and its log lines carry timestamps', async () => {
  certs = makeTestCertificates();
  const port = await freePort('::1');
  const pm2 = sandbox({ ECHO_HOST: '::1', ECHO_PORT: String(port) });
  await pm2.start('echo-server');
  expect((await pm2.waitForStatus('echo-server', 'online')).status).toBe('online');

  // Settings changed the way a user does it: `ECHO_TLS_CERT=... pm2 restart ecosystem.config.js`.
  await pm2.restart('echo-server', { ECHO_TLS_CERT: certs.serverCert, ECHO_TLS_KEY: certs.serverKey });
  await pm2.waitForStatus('echo-server', 'online');
  const socket = tlsConnect({ host: '::1', port, ca: readFileSync(certs.caCert) });
  try {
    await once(socket, 'secureConnect');
    socket.write('over TLS');
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('over TLS');
  } finally {
    socket.destroy();
  }
  const { out } = await pm2.logs('echo-server');
  expect(out).toMatch(new RegExp(`^${TIMESTAMP}\\[INFO\\] Server is listening on \\[::1\\]:${port} \\(IPv6\\)$`, 'm'));
  expect(out).toMatch(new RegExp(`^${TIMESTAMP}\\[INFO\\] TLS is on: `, 'm'));
}, 90_000);
