import { buildProgram, type EchoServerCliOptions } from './options';
import { EchoServer } from './echo-server';
import { ExitCode, onShutdownSignal, runProgram, UserFacingError } from '@collab/cli';
import { createLogger } from '@collab/logging';
import { loadServerCredentials, type ServerCredentials } from '@collab/address';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<EchoServerCliOptions>();
  const logger = createLogger({ level: options.logLevel });
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) program.error('--tls-cert and --tls-key go together: give both or neither');
  let tls: ServerCredentials | undefined;
  try {
    tls = options.tlsCert && options.tlsKey ? await loadServerCredentials(options.tlsCert, options.tlsKey) : undefined;
  } catch (error) {
    logger.error(`Server error: ${(error as Error).message}`);
    await logger.close();
    throw new UserFacingError((error as Error).message, ExitCode.Usage);
  }
  if (tls?.expired) logger.warn(`The TLS certificate has expired (${tls.summary}); clients will refuse it`);
  const server = new EchoServer({
    host: options.host,
    port: options.port,
    maxConnections: options.maxConnections,
    idleTimeoutMs: options.idleTimeout * 1000,
    tls,
    logger,
  });
  try {
    await server.start();
  } catch (error) {
    logger.error(`Server error: ${(error as Error).message}`);
    await logger.close();
    throw new UserFacingError((error as Error).message, ExitCode.Usage);
  }
  process.send?.('ready');

  onShutdownSignal((signal) => {
    logger.info(`Received ${signal}, shutting down`);
    void server.close().then(async () => {
      logger.info('Server shut down');
      await logger.close();
      process.exit(ExitCode.Ok);
    });
  });
});
