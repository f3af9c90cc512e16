import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's root: the nearest folder above the working directory holding nx.json. */
export function repoRoot(from = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}: run this inside the repository`);
  }
}

/** Path of a file in the shared data folder (../shared/data beside the repository; COLLAB_SHARED_DATA overrides). */
export function sharedDataPath(file: string): string {
  return join(process.env.COLLAB_SHARED_DATA ?? join(repoRoot(), '..', 'shared', 'data'), file);
}
