// The file system calls the store writes with, behind a small interface so tests can inject
// faults (ENOSPC, EIO) that cannot be caused for real on a test machine. Reads go straight to
// node:fs: a failed read changes nothing on disk.

import { open as fsOpen, rename as fsRename, unlink as fsUnlink } from 'node:fs/promises';

/** An open file, written at explicit positions so a failed write can be cut off and retried. */
export interface FsFile {
  /** Writes `data` at `position`; resolves with how many bytes were written (may be fewer). */
  write(data: Uint8Array, position: number): Promise<number>;
  /** fdatasync: the data and the size are durable. */
  datasync(): Promise<void>;
  /** fsync: the data and all metadata are durable. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** The write-side file system calls of the store. */
export interface FsOps {
  /** Opens a file with fs.open flags ('r+', 'w', numeric O_* flags...). */
  open(path: string, flags: string | number, mode?: number): Promise<FsFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes the directory's entries (created, renamed, removed files) durable. */
  syncDir(path: string): Promise<void>;
}

/** FsOps on node:fs/promises. */
export const nodeFsOps: FsOps = {
  async open(path, flags, mode) {
    const handle = await fsOpen(path, flags, mode);
    return {
      async write(data, position) {
        const { bytesWritten } = await handle.write(data, 0, data.length, position);
        return bytesWritten;
      },
      datasync: () => handle.datasync(),
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => fsRename(from, to),
  unlink: (path) => fsUnlink(path),
  async syncDir(path) {
    const handle = await fsOpen(path, 'r');
    try {
      await handle.sync();
    } catch (err) {
      // Some platforms cannot fsync a directory; there the rename is as durable as it gets.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw err;
    } finally {
      await handle.close();
    }
  },
};

/** Writes all of `data` at `position`, looping over short writes. */
export async function writeFully(file: FsFile, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const n = await file.write(done === 0 ? data : data.subarray(done), position + done);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += n;
  }
}
