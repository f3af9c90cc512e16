/** Base class of every error of @collab/persistence; `code` is stable for scripts and tests. */
export class PersistenceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PersistenceError';
  }
}

/** An option given to DocumentStore.open is out of range or of the wrong type. */
export class InvalidOptionError extends PersistenceError {
  constructor(message: string) {
    super('COLLAB_ERR_OPTION', message);
    this.name = 'InvalidOptionError';
  }
}

/** A document name that is not 1-64 characters of A-Za-z0-9._- or that starts with '.'. */
export class InvalidDocumentNameError extends PersistenceError {
  constructor(readonly documentName: string) {
    super(
      'COLLAB_ERR_DOC_NAME',
      `document name must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-', not starting with '.' (got ${JSON.stringify(documentName)})`,
    );
    this.name = 'InvalidDocumentNameError';
  }
}

/** Another process (or this one) already holds the data directory's lock. */
export class LockedError extends PersistenceError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly host: string,
  ) {
    super(
      'COLLAB_ERR_LOCKED',
      `data directory ${dataDir} is in use by process ${pid} on ${host}; stop that server first (one server per data directory)`,
    );
    this.name = 'LockedError';
  }
}

/** The store or the document was closed; nothing more can be appended. */
export class StoreClosedError extends PersistenceError {
  constructor(what: string) {
    super('COLLAB_ERR_CLOSED', `${what} is closed`);
    this.name = 'StoreClosedError';
  }
}

/** A log or snapshot is damaged before its end; it was left exactly as found. */
export class CorruptFileError extends PersistenceError {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(
      'COLLAB_ERR_CORRUPT',
      `${file} is damaged at byte offset ${offset} (${reason}); the records before it are intact and nothing was changed. ` +
        `To start anyway, keep a copy and cut the file at offset ${offset} (what follows it is lost)`,
    );
    this.name = 'CorruptFileError';
  }
}

/** A file system call failed; `errno` is the system's code ('ENOSPC', 'EIO', ...). */
export class StorageError extends PersistenceError {
  constructor(
    readonly errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_STORAGE', message, options);
    this.name = 'StorageError';
  }
}

/** The disk is full (ENOSPC, EDQUOT). */
export class DiskFullError extends StorageError {
  constructor(errno: string, message: string, options?: { cause?: unknown }) {
    super(errno, message, options);
    this.name = 'DiskFullError';
  }
}

/** The device reported an I/O error (EIO). */
export class DiskIoError extends StorageError {
  constructor(errno: string, message: string, options?: { cause?: unknown }) {
    super(errno, message, options);
    this.name = 'DiskIoError';
  }
}

/** The file system is mounted read-only (EROFS). */
export class ReadOnlyStorageError extends StorageError {
  constructor(errno: string, message: string, options?: { cause?: unknown }) {
    super(errno, message, options);
    this.name = 'ReadOnlyStorageError';
  }
}

/** The process may not write there (EACCES, EPERM). */
export class StoragePermissionError extends StorageError {
  constructor(errno: string, message: string, options?: { cause?: unknown }) {
    super(errno, message, options);
    this.name = 'StoragePermissionError';
  }
}

/** Wraps an error thrown by a file system call in the StorageError subclass its errno calls for. */
export function toStorageError(err: unknown, action: string, file: string): PersistenceError {
  if (err instanceof PersistenceError) return err;
  const errno = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EUNKNOWN';
  const detail = err instanceof Error ? err.message : String(err);
  const message = `could not ${action} ${file}: ${detail}`;
  switch (errno) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new DiskFullError(errno, message, { cause: err });
    case 'EIO':
      return new DiskIoError(errno, message, { cause: err });
    case 'EROFS':
      return new ReadOnlyStorageError(errno, message, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new StoragePermissionError(errno, message, { cause: err });
    default:
      return new StorageError(errno, message, { cause: err });
  }
}
