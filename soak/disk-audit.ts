// What a restarted server would load, read from the files alone: the snapshot, then the log's
// intact records (a torn tail is what a crash mid-write leaves; it is dropped, as the server's
// recovery does). Reading the log before the snapshot keeps this right while the server runs:
// a compaction writes the new snapshot before it empties the log, so either the log read holds
// everything since the old snapshot, or the snapshot read is the new one.
//
// Anything acknowledged before the read began must be in the result: the server ACKs only after
// fsync. The audit checks exactly that, which the end-of-run check cannot (clients resend what
// the server lost, so a lost ACKed edit may come back before the end).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as Y from 'yjs';
import { scanRecords } from '@collab/persistence';
import { TEXT } from './soak-client';
import { countTokens } from './token-text';

export interface StoredState {
  text: string;
  records: number;
  /** Bytes past the last intact record (a torn tail). */
  tornBytes: number;
  /** Updates that could not be integrated because something they depend on is missing. */
  pending: boolean;
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Rebuilds document `name` of `dataDir` from NAME.log and NAME.snapshot. */
export async function readStoredState(dataDir: string, name: string): Promise<StoredState> {
  const log = await readOptional(join(dataDir, `${name}.log`));
  const snapshotFile = await readOptional(join(dataDir, `${name}.snapshot`));
  const doc = new Y.Doc();
  let records = 0;
  let tornBytes = 0;
  doc.transact(() => {
    if (snapshotFile) {
      const scan = scanRecords(snapshotFile);
      if (scan.damage || scan.records.length !== 1)
        throw new Error(`${name}.snapshot is damaged: ${scan.damage?.reason ?? `${scan.records.length} records`}`);
      Y.applyUpdate(doc, scan.records[0]!);
    }
    if (log) {
      const scan = scanRecords(log);
      if (scan.damage?.kind === 'corrupt') throw new Error(`${name}.log is corrupt at offset ${scan.damage.offset}: ${scan.damage.reason}`);
      tornBytes = log.length - scan.validBytes;
      for (const record of scan.records) Y.applyUpdate(doc, record);
      records = scan.records.length;
    }
  });
  const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
  const text = doc.getText(TEXT).toString();
  doc.destroy();
  return { text, records, tornBytes, pending };
}

/** The tokens of `acked` that are not in `text`. */
export function missingTokens(text: string, acked: Iterable<string>): string[] {
  const present = countTokens(text);
  const missing: string[] = [];
  for (const token of acked) if (!present.has(token)) missing.push(token);
  return missing;
}

/** Periodic audits of the files against the tokens acknowledged before each read. */
export class Auditor {
  audits = 0;
  tokensChecked = 0;
  /** Acknowledged tokens found missing from the files (each once). */
  readonly missing = new Set<string>();
  readonly problems: string[] = [];
  tornTails = 0;

  constructor(private readonly dataDir: string) {}

  /** `acked` must be taken before this is called: those were all fsynced before the read. */
  async audit(acked: Map<string, string[]>, label: string): Promise<number> {
    let missingNow = 0;
    for (const [document, tokens] of acked) {
      let state: StoredState;
      try {
        state = await readStoredState(this.dataDir, document);
      } catch (error) {
        this.problems.push(`audit (${label}): ${document}: ${(error as Error).message}`);
        continue;
      }
      if (state.tornBytes > 0) this.tornTails++;
      this.tokensChecked += tokens.length;
      for (const token of missingTokens(state.text, tokens)) {
        missingNow++;
        if (this.missing.has(token)) continue;
        this.missing.add(token);
        this.problems.push(
          `audit (${label}): acknowledged ${token} is not in ${document}'s log/snapshot (${state.records} records${state.pending ? ', some updates pending on missing dependencies' : ''})`,
        );
      }
    }
    this.audits++;
    return missingNow;
  }
}
