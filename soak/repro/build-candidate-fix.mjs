// Experiment only (not part of the suite): bundles collab-server with two candidate fixes for the
// ACK-before-durable bugs (soak/README.md) applied in memory, into tmp/soak/experiment/main.js;
// the repository's files are not changed. Then:
//   node tools/soak.mjs --seconds 60 --disk-full-server tmp/soak/experiment/main.js
// 1. shared-document.ts: a duplicate change waits for the last append and fails with it
//    (ERROR 7, the client resends) instead of being ACKed when that append failed.
// 2. update-log.ts: when a commit fails, the records queued behind it fail too: they were
//    issued before the failure was known and may depend on what it failed to store.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const patches = {
  'apps/collab-server/src/shared-document.ts': [
    ['return this.lastAppend.catch(() => undefined);', 'return this.lastAppend;'],
  ],
  'libs/persistence/src/update-log.ts': [
    ['for (const r of batch) r.reject(err);\n          continue;', 'for (const r of batch) r.reject(err);\n          for (const r of this.records.splice(0)) r.reject(err);\n          continue;'],
  ],
};
await build({
  entryPoints: [`${root}/apps/collab-server/src/main.ts`],
  outfile: `${root}/tmp/soak/experiment/main.js`,
  bundle: true, platform: 'node', target: 'node20', format: 'cjs',
  tsconfig: `${root}/tsconfig.base.json`, external: ['pm2'],
  define: { COLLAB_VERSION: '"experiment"' },
  plugins: [{
    name: 'patch',
    setup(b) {
      b.onLoad({ filter: /(shared-document|update-log)\.ts$/ }, (args) => {
        const rel = args.path.slice(root.length + 1);
        let text = readFileSync(args.path, 'utf8');
        for (const [from, to] of patches[rel] ?? []) {
          if (!text.includes(from)) throw new Error(`patch not applicable in ${rel}: ${from}`);
          text = text.replace(from, to);
        }
        return { contents: text, loader: 'ts' };
      });
    },
  }],
});
console.log('built tmp/soak/experiment/main.js');
