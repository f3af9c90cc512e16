import { join, resolve } from 'node:path';
import { buildProgram, readSettings, SettingError } from './settings';
import { CollabServer } from './collab-server';
import { ExitCode, onShutdownSignal, runProgram, VERSION } from '@collab/cli';
import { DefaultDocumentError } from '@collab/collab-core';
import { createLogger, type Logger } from '@collab/logging';
import { loadServerCredentials, type ServerCredentials } from '@collab/address';

const program = buildProgram();

/** Logs a start-up failure as the one line it is and ends with exit 2 (PM2 does not restart it). */
async function startFailed(logger: Logger, line: string): Promise<number> {
  logger.error(line);
  await logger.close();
  return ExitCode.Usage;
}

void runProgram(program, process.argv, async () => {
  let settings;
  try {
    settings = readSettings(program);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    process.stderr.write(`collab-server: ${error.message}\n`);
    return ExitCode.Usage;
  }
  const logger = createLogger({ level: settings.logLevel });
  let tls: ServerCredentials | undefined;
  try {
    tls = settings.tlsCert && settings.tlsKey ? await loadServerCredentials(settings.tlsCert, settings.tlsKey) : undefined;
  } catch (error) {
    return startFailed(logger, `Server error: ${(error as Error).message}`);
  }
  if (tls?.expired) logger.warn(`The TLS certificate has expired (${tls.summary}); clients will refuse it`);
  const server = new CollabServer({
    ...settings.core,
    host: settings.host,
    port: settings.port,
    dataDir: resolve(settings.dataDir),
    watchFiles: settings.watchFiles,
    tls,
    // The bundle is dist/apps/collab-server/main.js; the web editor is built beside it.
    web:
      settings.wsPort === undefined
        ? undefined
        : { port: settings.wsPort, origins: settings.origins, webRoot: join(__dirname, '..', 'collab-web') },
    logger,
  });
  try {
    await server.start();
  } catch (error) {
    const message = (error as Error).message;
    // The assignment's lines: `[ERROR] Error opening file temp.txt: ...` or `[ERROR] Server error: ...`.
    return startFailed(logger, error instanceof DefaultDocumentError ? message : `Server error: ${message}`);
  }
  process.send?.('ready');

  // The last line of defence. A client's message that trips a bug is caught where it is handled
  // (that client is closed and the bug logged); anything that still escapes leaves the process in
  // a state nothing vouches for, so it stops, storing what it can, and PM2 starts it afresh. Every
  // acknowledged edit is on disk already: exiting loses none.
  let dying = false;
  const fatal = (kind: string) => (error: unknown) => {
    if (dying) return;
    dying = true;
    logger.error(
      `Fatal ${kind}, stopping (PM2 restarts the server; acknowledged edits are on disk): ${(error as Error)?.stack ?? String(error)}`,
    );
    setTimeout(() => process.exit(ExitCode.Failure), 5000).unref();
    void server
      .close()
      .catch(() => undefined)
      .then(() => logger.close())
      .finally(() => process.exit(ExitCode.Failure));
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));

  onShutdownSignal((signal) => {
    logger.info(`Received ${signal}, shutting down`);
    void server.close().then(async () => {
      await logger.close();
      process.exit(ExitCode.Ok);
    });
  });
  void VERSION;
});
