import { buildProgram, type EchoServerCliOptions } from './options';
import { EchoServer } from './echo-server';
import { ExitCode, onShutdownSignal, runProgram, UserFacingError } from '@collab/cli';
import { createLogger } from '@collab/logging';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<EchoServerCliOptions>();
  const logger = createLogger({ level: options.logLevel });
  const server = new EchoServer({
    host: options.host,
    port: options.port,
    maxConnections: options.maxConnections,
    idleTimeoutMs: options.idleTimeout * 1000,
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
