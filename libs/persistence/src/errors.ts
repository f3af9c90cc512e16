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
    /** The document locked, when the directory is locked a document at a time (StoreOptions.lockEach). */
    readonly document?: string,
  ) {
    super(
      'COLLAB_ERR_LOCKED',
      document === undefined
        ? `data directory ${dataDir} is in use by process ${pid} on ${host}; stop that server first (one server per data directory)`
        : `document ${document} in ${dataDir} is being written by process ${pid} on ${host}`,
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

/** Which file of a document is damaged. */
export type DamagedFile = 'log' | 'snapshot';

/**
 * A log or snapshot is damaged where its records may hold acknowledged edits; it was left exactly
 * as found. The message says what an operator can do (for the server's log, never for clients).
 */
export class CorruptFileError extends PersistenceError {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
    readonly kind: DamagedFile = 'log',
  ) {
    super(
      'COLLAB_ERR_CORRUPT',
      `${file} is damaged at byte offset ${offset} (${reason}); nothing was changed. ${adviceFor(file, offset, kind)}`,
    );
    this.name = 'CorruptFileError';
  }
}

// NAME.txt is written after the edits it shows, and a text the store did not write is merged as
// an edit at start: that is what an operator can rebuild a document's text from.
function adviceFor(file: string, offset: number, kind: DamagedFile): string {
  const base = file.replace(/\.(log|snapshot)$/, '');
  if (kind === 'snapshot') {
    return (
      `The log holds only the edits made after this snapshot, so the document cannot be rebuilt from them; ${base}.txt holds the last text the server wrote. ` +
      `To start from that text: keep copies of ${base}.snapshot and ${base}.log, move both out of the data directory, and delete ${base}.meta ` +
      `(the server then takes ${base}.txt as the document; the edit history is lost, the text is kept)`
    );
  }
  return (
    `The records before offset ${offset} are intact; the damaged record and any after it may hold acknowledged edits, whose text ${base}.txt (written after them) shows. ` +
    `To start anyway: keep a copy of ${base}.log, cut it at offset ${offset} (truncate -s ${offset} ${base}.log) and delete ${base}.meta; ` +
    `the server then applies the difference between ${base}.txt and the rest of the log as an edit, so that text is kept`
  );
}

/**
 * NAME.txt holds an outside edit that was refused (not UTF-8, or longer than a document may be):
 * it is left as it is, and not written, until someone fixes or deletes it.
 */
export class TextFileRefusedError extends PersistenceError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('COLLAB_ERR_TEXT_REFUSED', `${file} ${reason}: the server does not write it until it is fixed or deleted`);
    this.name = 'TextFileRefusedError';
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
