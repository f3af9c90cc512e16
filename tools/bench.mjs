// `npm run bench [PART...]`: bundles each bench/PART.bench.ts with esbuild (so @collab/* aliases
// resolve) and runs it with node; each prints its own side-by-side table. Parts run one after
// another so they don't disturb each other's figures.
import { bundleTs } from './bundle-ts.mjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const all = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
for (const w of wanted) {
  if (!all.includes(w)) {
    console.error(`unknown bench part "${w}"; parts: ${all.join(', ')}`);
    process.exit(2);
  }
}
// The apps must be built: benches start the real servers from dist/.
if (!existsSync(join(root, 'dist', 'apps'))) spawnSync('node', [join(root, 'tools', 'build-apps.mjs')], { stdio: 'inherit' });

let failed = 0;
for (const part of wanted.length ? wanted : all) {
  const outfile = join(root, 'tmp', 'bench', `${part}.js`);
  await bundleTs(`bench/${part}.bench.ts`, outfile);
  console.log(`\n=== bench: ${part} ===`);
  const r = spawnSync('node', ['--expose-gc', outfile, ...flags], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
