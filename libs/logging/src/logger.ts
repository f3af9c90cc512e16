import { createLogger as createWinstonLogger, format, transports, type Logger as WinstonLogger } from 'winston';
import { InvalidLogLevelError } from './errors';

/**
 * Levels, most severe first. `update` is the assignment's `[UPDATE] Document updated by ...`
 * line: as important as `info`, shown whenever info is.
 */
export const LOG_LEVELS = { error: 0, warn: 1, info: 2, update: 2, debug: 3 } as const;

/** A level name accepted by --log-level and LOG_LEVEL. */
export type LogLevel = keyof typeof LOG_LEVELS;

/** The logger every app uses: one method per level, plus a cheap enabled-check for hot paths. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  update(message: string): void;
  debug(message: string): void;
  /** True when a message at `level` would be written; lets hot paths skip building it. */
  isEnabled(level: LogLevel): boolean;
  /** Flushes and closes the transports; safe to call twice. */
  close(): Promise<void>;
}

/** Options of createLogger. */
export interface LoggerOptions {
  /** Minimum level written; default: `LOG_LEVEL` from the environment, else `info`. */
  level?: string;
  /** Where lines go; default the console (error and warn on stderr, the rest on stdout). */
  stream?: NodeJS.WritableStream;
  /** Don't write anything (tests). */
  silent?: boolean;
}

/** Checks a level name, throwing InvalidLogLevelError with the allowed names when it is wrong. */
export function parseLogLevel(level: string): LogLevel {
  const lower = level.trim().toLowerCase();
  if (!(lower in LOG_LEVELS)) throw new InvalidLogLevelError(level, Object.keys(LOG_LEVELS));
  return lower as LogLevel;
}

const lineFormat = format.printf((entry) => `[${entry.level.toUpperCase()}] ${String(entry.message)}`);

/** Creates a winston logger writing `[LEVEL] message` lines, as the assignment's logs look. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = parseLogLevel(options.level ?? process.env.LOG_LEVEL ?? 'info');
  const transport = options.stream
    ? new transports.Stream({ stream: options.stream })
    : new transports.Console({ stderrLevels: ['error', 'warn'] });
  const winston: WinstonLogger = createWinstonLogger({
    levels: LOG_LEVELS,
    level,
    format: lineFormat,
    transports: [transport],
    silent: options.silent ?? false,
  });
  const threshold = LOG_LEVELS[level];
  let closed: Promise<void> | undefined;
  const write = (lvl: LogLevel) => (message: string) => {
    if (LOG_LEVELS[lvl] <= threshold && !closed) winston.log(lvl, message);
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    update: write('update'),
    debug: write('debug'),
    isEnabled: (lvl) => !options.silent && LOG_LEVELS[lvl] <= threshold,
    close() {
      closed ??= new Promise<void>((resolve) => {
        winston.on('finish', () => resolve());
        winston.end();
      });
      return closed;
    },
  };
}

/** Shortens text for a log line: one line, at most `max` characters, with an ellipsis. */
export function shorten(text: string, max = 80): string {
  const flat = text.replace(/\r?\n/g, '\\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
