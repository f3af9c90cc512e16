/** Base class of the errors of @collab/collab-core; `code` is stable for scripts and tests. */
export class CollabCoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollabCoreError';
  }
}

/** A setting is missing, of the wrong type or out of range; `setting` names it. */
export class InvalidSettingError extends CollabCoreError {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super('COLLAB_ERR_SETTING', message);
    this.name = 'InvalidSettingError';
  }
}

/** A client asked for a document while the most the server holds at once are open. */
export class TooManyDocumentsError extends CollabCoreError {
  constructor(readonly limit: number) {
    super('COLLAB_ERR_TOO_MANY_DOCUMENTS', `${limit} documents are open, the most this server holds at once. Please try again later.`);
    this.name = 'TooManyDocumentsError';
  }
}

/** The core is shutting down: no document is opened any more. */
export class CoreClosedError extends CollabCoreError {
  constructor() {
    super('COLLAB_ERR_CLOSED', 'the server is shutting down');
    this.name = 'CoreClosedError';
  }
}

/** Why the document refused a client's update; nothing of it reached the document, the peers or the storage. */
export type UpdateRefusal =
  /** Yjs cannot read or apply it. */
  | 'malformed'
  /** It builds on changes the document does not have (Yjs would keep it aside). */
  | 'missing-dependency'
  /** It changes something other than the document's text (another shared type, binary or JSON content, ...). */
  | 'not-text'
  /** It would make the text longer than maxDocumentChars. */
  | 'too-large'
  /** It would give the document more items (Yjs's pieces of text, deleted ones too) than maxDocumentItems. */
  | 'too-many-items';

/** A client's update was refused; see `reason`. */
export class UpdateRefusedError extends CollabCoreError {
  constructor(
    readonly reason: UpdateRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('COLLAB_ERR_UPDATE_REFUSED', message, options);
    this.name = 'UpdateRefusedError';
  }
}

/** A client's presence (awareness) update was refused; nothing of it was applied. */
export class PresenceRefusedError extends CollabCoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_PRESENCE_REFUSED', message, options);
    this.name = 'PresenceRefusedError';
  }
}

/** The document's stored history could not be applied: its storage is damaged. */
export class HistoryError extends CollabCoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLAB_ERR_HISTORY', message, options);
    this.name = 'HistoryError';
  }
}

/** Something the server must send does not fit in one message even after splitting (a single huge non-text item). */
export class MessageTooLargeError extends CollabCoreError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('COLLAB_ERR_MESSAGE_TOO_LARGE', `a message of ${bytes} bytes cannot be split below the limit of ${limit} bytes`);
    this.name = 'MessageTooLargeError';
  }
}
