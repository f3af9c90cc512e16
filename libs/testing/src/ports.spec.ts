import { createServer } from 'node:net';
import { once } from 'node:events';
import { accepts, freePort, waitFor, waitForPort } from './ports';

describe('ports', () => {
  it('freePort gives a port nothing listens on', async () => {
    const port = await freePort();
    expect(await accepts(port)).toBe(false);
  });

  it('waitForPort resolves once a server listens', async () => {
    const port = await freePort();
    const server = createServer();
    setTimeout(() => server.listen({ host: '::', port }), 50);
    await waitForPort(port);
    server.close();
    await once(server, 'close');
  });

  it('waitForPort gives up when the process meant to listen is gone', async () => {
    const port = await freePort();
    await expect(waitForPort(port, { stillAlive: () => false })).rejects.toThrow(/exited/);
  });

  it('waitFor names what it waited for', async () => {
    await expect(waitFor(() => false, 'the moon', 30)).rejects.toThrow('timed out waiting for the moon');
  });
});
