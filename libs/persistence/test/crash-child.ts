// Child process of crash-recovery.spec.ts: appends tokens "R<round>:<i>;" at the end of
// document 'crash' from 8 concurrent writers and prints "ack <i>" for each append that resolved,
// until it is killed. With DIE_AT=<point>:<n> it SIGKILLs itself at the n-th time it reaches a
// point of a compaction or a write, so those moments are hit exactly, not only by chance.

import { writeSync } from 'node:fs';
import { openLive } from './live-document';
import { DocumentStore, nodeFsOps, type FsOps, type FsFile } from '../src/index';

const [dataDir, roundArg, compactArg, dieAtArg] = process.argv.slice(2);
const round = Number(roundArg);
const [diePoint, dieCountArg] = (dieAtArg ?? 'none:0').split(':');
let dieCountdown = Number(dieCountArg);

function reached(point: string): void {
  if (point !== diePoint) return;
  if (--dieCountdown > 0) return;
  writeSync(1, `dying at ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}

const isSnapshotTemp = (p: string) => p.endsWith('.snapshot.tmp');

// The real file system, with the points above marked.
const fs: FsOps = {
  async open(path, flags, mode) {
    const file = await nodeFsOps.open(path, flags, mode);
    const wrapped: FsFile = {
      async write(data, position) {
        if (isSnapshotTemp(path)) {
          await file.write(data.subarray(0, data.length >> 1), position);
          reached('snapshot-half-written');
        }
        if (path.endsWith('.log') && data.length > 16) {
          // Half a batch may end on a record boundary; all but 3 bytes never does.
          if (diePoint === 'log-half-written') await file.write(data.subarray(0, data.length >> 1), position);
          if (diePoint === 'log-cut-short') await file.write(data.subarray(0, data.length - 3), position);
          reached(diePoint === 'log-cut-short' ? 'log-cut-short' : 'log-half-written');
        }
        return file.write(data, position);
      },
      async datasync() {
        await file.datasync();
      },
      async sync() {
        await file.sync();
        if (isSnapshotTemp(path)) reached('snapshot-synced');
        if (path.endsWith('.log')) reached('log-emptied');
      },
      async truncate(length) {
        await file.truncate(length);
        if (length === 0) reached('log-truncated');
      },
      close: () => file.close(),
    };
    return wrapped;
  },
  async rename(from, to) {
    await nodeFsOps.rename(from, to);
    if (to.endsWith('.snapshot')) reached('snapshot-renamed');
    if (to.endsWith('.meta')) reached('meta-renamed');
    if (to.endsWith('.txt')) reached('text-renamed');
  },
  unlink: (path) => nodeFsOps.unlink(path),
  syncDir: (path) => nodeFsOps.syncDir(path),
};

async function main(): Promise<void> {
  const store = await DocumentStore.open({
    dataDir,
    compactBytes: Number(compactArg),
    textDebounceMs: 5,
    fs,
    onWarning: (m) => writeSync(2, `warning: ${m}\n`),
  });
  const stored = await openLive(store, 'crash');
  const text = stored.doc.getText('content');
  let last: Uint8Array | null = null;
  stored.doc.on('update', (u: Uint8Array) => (last = u));
  writeSync(1, 'ready\n');
  let next = 0;
  const writer = async () => {
    for (;;) {
      const i = next++;
      text.insert(text.length, `R${round}:${i};`);
      await stored.append(last!);
      writeSync(1, `ack ${i}\n`);
      if (i >= 1500) await new Promise((r) => setTimeout(r, 5)); // bound growth; keep the process killable
    }
  };
  for (let w = 0; w < 8; w++) void writer();
}

main().catch((err) => {
  writeSync(2, `child failed: ${(err as Error).stack}\n`);
  process.exit(3);
});
