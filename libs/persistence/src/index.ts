export {
  DocumentStore,
  DEFAULT_COMPACT_BYTES,
  DEFAULT_COMPACT_RECORDS,
  DEFAULT_TEXT_DEBOUNCE_MS,
  DEFAULT_FILE_SETTLE_MS,
} from './document-store';
export type { StoreOptions } from './document-store';
export { DocumentFiles } from './stored-document';
export { nodeFsOps } from './fs-ops';
export type { FsOps, FsFile } from './fs-ops';
export { encodeRecord, scanRecords, RECORD_HEADER_BYTES } from './record-codec';
export type { RecordScan, RecordDamage } from './record-codec';
export { LOCK_FILE_NAME, documentLockName } from './dir-lock';
export {
  PersistenceError,
  InvalidOptionError,
  InvalidDocumentNameError,
  LockedError,
  StoreClosedError,
  CorruptFileError,
  StorageError,
  DiskFullError,
  DiskIoError,
  ReadOnlyStorageError,
  StoragePermissionError,
  TextFileRefusedError,
} from './errors';
export type { DamagedFile } from './errors';
export { validateDocumentName } from './document-name';
