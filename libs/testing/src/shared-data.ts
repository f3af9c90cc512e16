import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's root: the nearest folder above the working directory holding nx.json. */
export function repoRoot(from = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}: run this inside the repository`);
  }
}

/** Path of an editing trace in testdata/traces (credit and license beside them; COLLAB_TRACES_DIR overrides). */
export function traceDataPath(file: string): string {
  return join(process.env.COLLAB_TRACES_DIR ?? join(repoRoot(), 'testdata', 'traces'), file);
}

/** Path of one of the assignment's own clients in testdata/seed (client.py and echo_client.py). */
export function seedClientPath(file: string): string {
  return join(repoRoot(), 'testdata', 'seed', file);
}
