import { buildProgram, type EchoServerCliOptions } from './options';
import { EchoServer } from './echo-server';
import { ExitCode, onShutdownSignal, runProgram, UserFacingError } from '@collab/cli';
import { createLogger } from '@collab/logging';
import { loadServerCredentials, type ServerCredentials } from '@collab/address';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<EchoServerCliOptions>();
  const logger = createLogger({ level: options.logLevel });
  // A server that cannot start says so once, as a log line (under PM2 it lands in the error
  // log with a timestamp), and exits 2 so PM2 does not restart it (stop_exit_codes).
  const startFailed = async (error: unknown) => {
    const message = (error as Error).message;
    logger.error(`Server error: ${message}`);
    await logger.close();
    return new UserFacingError(message, ExitCode.Usage, { cause: error, reported: true });
  };
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) program.error('--tls-cert and --tls-key go together: give both or neither');
  let tls: ServerCredentials | undefined;
  try {
    tls = options.tlsCert && options.tlsKey ? await loadServerCredentials(options.tlsCert, options.tlsKey) : undefined;
  } catch (error) {
    throw await startFailed(error);
  }
  if (tls?.expired) logger.warn(`The TLS certificate has expired (${tls.summary}); clients will refuse it`);
  const server = new EchoServer({
    host: options.host,
    port: options.port,
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    idleTimeoutMs: options.idleTimeout * 1000,
    tls,
    logger,
  });
  try {
    await server.start();
  } catch (error) {
    throw await startFailed(error);
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
