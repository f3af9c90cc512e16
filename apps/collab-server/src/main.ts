import { resolve } from 'node:path';
import { buildProgram, type CollabServerCliOptions } from './options';
import { CollabServer, DefaultDocumentError } from './collab-server';
import { ExitCode, onShutdownSignal, runProgram, UserFacingError, VERSION } from '@collab/cli';
import { createLogger } from '@collab/logging';
import { loadServerCredentials, type ServerCredentials } from '@collab/address';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<CollabServerCliOptions>();
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
  const server = new CollabServer({
    host: options.host,
    port: options.port,
    dataDir: resolve(options.dataDir),
    maxClients: options.maxClients,
    maxFrameBytes: options.maxFrame,
    idleTimeoutMs: options.idleTimeout * 1000,
    token: options.token,
    tls,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    maxDocuments: options.maxDocuments,
    maxEditsPerSecond: options.maxEditsPerSecond,
    maxBytesPerSecond: options.maxBytesPerSecond,
    maxDocumentChars: options.maxDocumentChars,
    serverName: `collab-server ${VERSION}`,
    logger,
  });
  try {
    await server.start();
  } catch (error) {
    const message = (error as Error).message;
    // The assignment's lines: `[ERROR] Error opening file temp.txt` or `[ERROR] Server error: ...`.
    logger.error(error instanceof DefaultDocumentError ? message : `Server error: ${message}`);
    await logger.close();
    throw new UserFacingError(message, ExitCode.Usage);
  }
  process.send?.('ready');

  onShutdownSignal((signal) => {
    logger.info(`Received ${signal}, shutting down`);
    void server.close().then(async () => {
      await logger.close();
      process.exit(ExitCode.Ok);
    });
  });
});
