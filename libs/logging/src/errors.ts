/** Base class of every error of @collab/logging; `code` is stable for scripts and tests. */
export class LoggingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LoggingError';
  }
}

/** A log level that is not one of LOG_LEVELS. */
export class InvalidLogLevelError extends LoggingError {
  constructor(level: string, allowed: readonly string[]) {
    super('COLLAB_ERR_LOG_LEVEL', `log level must be one of ${allowed.join(', ')} (got "${level}")`);
    this.name = 'InvalidLogLevelError';
  }
}
