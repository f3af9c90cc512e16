import { connect } from 'node:net';
import { once } from 'node:events';
import { freePort, Pm2Sandbox } from '@collab/testing';

let pm2: Pm2Sandbox | undefined;

async function echoOnce(host: string, port: number, text: string): Promise<string> {
  const s = connect({ host, port });
  try {
    await once(s, 'connect');
    s.write(text);
    const [data] = (await once(s, 'data')) as [Buffer];
    return data.toString();
  } finally {
    s.destroy();
  }
}

afterAll(async () => {
  // Stops the test's own PM2 daemon (its own PM2_HOME), never one the user runs.
  await pm2?.kill();
});

it('runs echo-server under PM2 and brings it back after SIGKILL', async () => {
  const port = await freePort();
  pm2 = new Pm2Sandbox({ ECHO_PORT: String(port), LOG_LEVEL: 'warn' });
  const first = await pm2.start('echo-server');
  expect(first.status).toBe('online');
  expect(await echoOnce('::1', port, 'before')).toBe('before');

  process.kill(first.pid, 'SIGKILL');
  const next = await pm2.waitForRestart('echo-server', first.pid);
  expect(next.restarts).toBeGreaterThanOrEqual(1);
  // wait_ready: online means it is listening again.
  expect(await echoOnce('127.0.0.1', port, 'after')).toBe('after');
}, 90_000);
