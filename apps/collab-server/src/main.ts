import { resolve } from 'node:path';
import { buildProgram, type CollabServerCliOptions } from './options';
import { CollabServer, DefaultDocumentError } from './collab-server';
import { ExitCode, onShutdownSignal, runProgram, UserFacingError, VERSION } from '@collab/cli';
import { createLogger } from '@collab/logging';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<CollabServerCliOptions>();
  const logger = createLogger({ level: options.logLevel });
  const server = new CollabServer({
    host: options.host,
    port: options.port,
    dataDir: resolve(options.dataDir),
    maxClients: options.maxClients,
    maxFrameBytes: options.maxFrame,
    idleTimeoutMs: options.idleTimeout * 1000,
    token: options.token,
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
