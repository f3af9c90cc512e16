/** Base class of every error of @collab/redis-storage; `code` is stable for scripts and tests. */
export class RedisStorageError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RedisStorageError';
  }
}

/** Redis could not be reached at start (refused, timed out, wrong password). */
export class RedisUnreachableError extends RedisStorageError {
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_REDIS_UNREACHABLE', `cannot reach Redis at ${url}: ${reason}`, options);
    this.name = 'RedisUnreachableError';
  }
}

/** Redis is not configured to keep every acknowledged write on its disk (see durability-check.ts). */
export class RedisNotDurableError extends RedisStorageError {
  constructor(message: string) {
    super('COLLAB_ERR_REDIS_NOT_DURABLE', message);
    this.name = 'RedisNotDurableError';
  }
}

/** An option of RedisStorage.open is out of range or of the wrong type. */
export class RedisOptionError extends RedisStorageError {
  constructor(message: string) {
    super('COLLAB_ERR_OPTION', message);
    this.name = 'RedisOptionError';
  }
}

/** A document is in Redis in a form this server cannot use (an entry that is not ours). */
export class RedisDataError extends RedisStorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_REDIS_DATA', message, options);
    this.name = 'RedisDataError';
  }
}
