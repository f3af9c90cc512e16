export { createLogger, parseLogLevel, shorten, LOG_LEVELS } from './logger';
export type { Logger, LoggerOptions, LogLevel } from './logger';
export { LoggingError, InvalidLogLevelError } from './errors';
