// What a client is told when the storage fails: the kind of failure in a few words, never the
// server's file paths (those, and the operator's advice, go to the server's log).

/** Words for a storage error, from its system error code when it has one (`ENOSPC`: "the disk is full"). */
export function describeStorageFailure(error: unknown): string {
  const errno = (error as { errno?: unknown })?.errno;
  const code = (error as { code?: unknown })?.code;
  switch (typeof errno === 'string' ? errno : undefined) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EROFS':
      return 'the storage is read-only';
    case 'EIO':
      return 'the disk reported an I/O error';
    case 'EACCES':
    case 'EPERM':
      return 'the server may not write its files';
  }
  if (code === 'COLLAB_ERR_CORRUPT' || code === 'COLLAB_ERR_HISTORY')
    return "its stored files are damaged (the server's log says which and what to do)";
  if (code === 'COLLAB_ERR_CLOSED') return 'the server is shutting down';
  return "a storage error (details in the server's log)";
}
