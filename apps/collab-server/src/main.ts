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
    redis: settings.redis,
    tls,
    // The bundle is dist/apps/collab-server/main.js; the web editor is built beside it.
    web:
      settings.wsPort === undefined
        ? undefined
        : { port: settings.wsPort, origins: settings.origins, webRoot: join(__dirname, '..', 'collab-web') },
    logger,
  });
  // Installed before the start, so a SIGTERM that comes while the server starts (PM2, a test
  // that saw "Server listening") is not the default one (which exits at once, storing nothing).
  let started = false;
  let pendingSignal: NodeJS.Signals | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info(`Received ${signal}, shutting down`);
    // Keeps the process alive until the close is done (some of its waits hold no handle), and
    // bounds it within PM2's kill_timeout.
    setTimeout(() => process.exit(ExitCode.Failure), 7000);
    void server.close().then(async () => {
      await logger.close();
      process.exit(ExitCode.Ok);
    });
  };
  onShutdownSignal((signal) => (started ? shutdown(signal) : (pendingSignal = signal)));
  try {
    await server.start();
  } catch (error) {
    const message = (error as Error).message;
    // The assignment's lines: `[ERROR] Error opening file temp.txt: ...` or `[ERROR] Server error: ...`.
    return startFailed(logger, error instanceof DefaultDocumentError ? message : `Server error: ${message}`);
  }
  started = true;
  if (pendingSignal) shutdown(pendingSignal);
  process.send?.('ready');

  // The last line of defence. A client's message that trips a bug is caught where it is handled
  // (that client is closed and the bug logged); anything that still escapes leaves the process in
  // a state nothing vouches for, so it stops, storing what it can, and PM2 starts it afresh. Every
  // acknowledged edit is on disk already: exiting loses none.
  let dying = false;
  const fatal = (kind: string) => (error: unknown) => {
    if (dying) return;
    dying = true;
    // Set now: once everything is closed the event loop may empty (and the process end) before
    // the logger's close resolves.
    process.exitCode = ExitCode.Failure;
    logger.error(
      `Fatal ${kind}, stopping (PM2 restarts the server; acknowledged edits are on disk): ${(error as Error)?.stack ?? String(error)}`,
    );
    // Referenced: it also keeps the process alive while the close waits on promises alone.
    setTimeout(() => process.exit(ExitCode.Failure), 5000);
    void server
      .close()
      .catch(() => undefined)
      .then(() => logger.close())
      .finally(() => process.exit(ExitCode.Failure));
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));

  void VERSION;
});
