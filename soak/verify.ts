// End-of-run checks, once the server has stopped gracefully (so NAME.txt is exact): every
// client's text equals its document's NAME.txt and what the log and snapshot rebuild; every
// acknowledged token is in every client, in the file and in the stored state; no token is
// duplicated; and (stronger than promised) no token at all went missing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingTokens, readStoredState } from './disk-audit';
import type { Fleet } from './fleet';
import { countTokens } from './token-text';

export interface VerifyResult {
  /** Acknowledged tokens checked (each in every client, the text file and the stored state). */
  ackedChecked: number;
  /** Acknowledged tokens missing from a client, the file or the stored state. */
  editsLost: number;
  /** Tokens never acknowledged that are missing anyway (clients keep them, so 0 expected). */
  unackedMissing: number;
  /** Tokens found more than once somewhere. */
  duplicated: number;
  /** Documents whose clients differ from each other or from NAME.txt. */
  divergent: string[];
  /** Documents whose log + snapshot do not rebuild NAME.txt. */
  storedMismatch: string[];
  problems: string[];
}

export async function verifyFinal(fleet: Fleet, dataDir: string): Promise<VerifyResult> {
  const result: VerifyResult = {
    ackedChecked: 0,
    editsLost: 0,
    unackedMissing: 0,
    duplicated: 0,
    divergent: [],
    storedMismatch: [],
    problems: [],
  };
  const acked = fleet.ackedByDocument();
  const inserted = fleet.insertedByDocument();
  for (const document of fleet.documents) {
    let file: string;
    try {
      file = readFileSync(join(dataDir, `${document}.txt`), 'utf8');
    } catch (error) {
      result.problems.push(`${document}.txt cannot be read: ${(error as Error).message}`);
      file = '';
    }
    const stored = await readStoredState(dataDir, document).catch((error: Error) => {
      result.problems.push(`${document}: stored state cannot be rebuilt: ${error.message}`);
      return undefined;
    });
    if (stored && stored.text !== file) {
      result.storedMismatch.push(document);
      result.problems.push(`${document}: log + snapshot rebuild a text of ${stored.text.length} chars, ${document}.txt has ${file.length}`);
    }
    if (stored?.pending) result.problems.push(`${document}: the stored updates have unmet dependencies (pending structs)`);
    const texts = fleet.clientsOf(document).map((c) => ({ name: c.name, text: c.currentText }));
    const differing = texts.filter((t) => t.text !== file);
    if (differing.length) {
      result.divergent.push(document);
      result.problems.push(
        `${document}: ${differing.map((t) => t.name).join(', ')} differ from ${document}.txt (${differing.map((t) => t.text.length).join('/')} vs ${file.length} chars)`,
      );
    }
    const ackedTokens = acked.get(document)!;
    const ackedSet = new Set(ackedTokens);
    const places = [
      { where: `${document}.txt`, text: file },
      ...(stored ? [{ where: `${document} log+snapshot`, text: stored.text }] : []),
      ...texts.map((t) => ({ where: t.name, text: t.text })),
    ];
    const lost = new Set<string>();
    for (const place of places) {
      for (const token of missingTokens(place.text, ackedTokens)) {
        if (!lost.has(token)) result.problems.push(`acknowledged ${token} missing from ${place.where}`);
        lost.add(token);
      }
      const counts = countTokens(place.text);
      for (const [token, n] of counts) {
        if (n > 1) {
          result.duplicated++;
          result.problems.push(`${token} occurs ${n} times in ${place.where}`);
        }
      }
    }
    result.ackedChecked += ackedTokens.length;
    result.editsLost += lost.size;
    const unacked = inserted.get(document)!.filter((t) => !ackedSet.has(t));
    for (const token of missingTokens(file, unacked)) {
      result.unackedMissing++;
      result.problems.push(`${token} (never acknowledged) missing from ${document}.txt`);
    }
  }
  return result;
}
