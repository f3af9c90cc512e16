// The baseline of `npm run bench redis`: a Hocuspocus server with its Redis extension (instances
// relay each other's updates and awareness over Redis pub/sub), one process per instance:
// `node bench/hocuspocus-redis-server.mjs PORT REDIS_PORT`. No persistence extension: Hocuspocus
// stores documents through a debounced hook, so nothing it relays waits for a disk or for Redis.
import { Server } from '@hocuspocus/server';
import { Redis } from '@hocuspocus/extension-redis';

const [port, redisPort] = process.argv.slice(2).map(Number);
const server = new Server({
  port,
  address: '127.0.0.1',
  quiet: true,
  extensions: [new Redis({ host: '127.0.0.1', port: redisPort })],
});
await server.listen();
console.log(`Hocuspocus listening on ${port}`);
process.on('SIGTERM', () => server.destroy().then(() => process.exit(0)));
