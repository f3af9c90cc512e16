export { DocumentStore, DEFAULT_COMPACT_BYTES, DEFAULT_TEXT_DEBOUNCE_MS } from './document-store';
export type { StoreOptions } from './document-store';
export { DocumentFiles, TEXT_NAME } from './stored-document';
export type { StoredDocument } from './stored-document';
export { nodeFsOps } from './fs-ops';
export { FaultyFs } from './faulty-fs';
export type { Fault, FaultyOp } from './faulty-fs';
export type { FsOps, FsFile } from './fs-ops';
export { encodeRecord, scanRecords, RECORD_HEADER_BYTES } from './record-codec';
export type { RecordScan, RecordDamage } from './record-codec';
export { LOCK_FILE_NAME } from './dir-lock';
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
} from './errors';
