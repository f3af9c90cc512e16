export { CollabCore, DefaultDocumentError } from './collab-core';
export type { CollabCoreOptions, TextSessionOptions, TokenCheck } from './collab-core';
export { ClientSession } from './client-session';
export type { SessionOptions, SessionHost, HostedSession } from './client-session';
export { PlainTextSession, PLAIN_TEXT_CLIENT_NAME, UNTERMINATED_LINE_MS } from './plain-text-session';
export { LineReader } from './line-reader';
export type { ReadLine } from './line-reader';
export { DocumentRegistry } from './document-registry';
export { SharedDocument, ServerOrigin, TEXT_NAME } from './shared-document';
export type { DocumentPeer, ChangeOrigin, SharedDocumentOptions } from './shared-document';
export type { Transport, Connection, Refusal } from './transport';
export type { TextTransport, TextConnection } from './text-transport';
export type { DocumentStorage, StoredDocument, LiveDocumentView, OutsideTextEdit, OutsideMergeResult } from './storage';
export { MemoryStorage, MemoryStorageFault } from './memory-storage';
export type { MemoryRecord } from './memory-storage';
export { DEFAULT_CORE_SETTINGS, CORE_SETTING_RULES, resolveCoreSettings } from './settings';
export type { CoreSettings } from './settings';
export {
  CollabCoreError,
  InvalidSettingError,
  TooManyDocumentsError,
  CoreClosedError,
  UpdateRefusedError,
  PresenceRefusedError,
  HistoryError,
  MessageTooLargeError,
} from './errors';
export type { UpdateRefusal } from './errors';
export { splitUpdate } from './update-split';
export { checkTextUpdate } from './update-shape';
export type { UpdateShape } from './update-shape';
export { PresenceTable, nestsWithin } from './presence';
export type { PresenceLimits, PresenceOutcome } from './presence';
export { diffText, applyTextChanges, DIFF_TIME_LIMIT_SECONDS } from './text-diff';
export type { TextChange } from './text-diff';
export { mergeFileText, snapshotOfDoc, snapshotOfState } from './text-merge';
export type { MergeBase, FileMerge, ThreeWayMerge } from './text-merge';
export { describeStorageFailure } from './storage-failure';
export { TokenBucket } from './token-bucket';
export { AuthThrottle } from './auth-throttle';
