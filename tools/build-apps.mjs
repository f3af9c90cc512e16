// Bundles each app (apps/NAME/src/main.ts) with esbuild into dist/apps/NAME/main.js, and each
// browser app (apps/NAME/src/index.html: the web editor) into dist/apps/NAME/ (tools/build-web.mjs).
// Runs on `npm ci` (postinstall) so the apps are ready for PM2 right after install,
// and as each app's Nx `build` target: `node tools/build-apps.mjs NAME`.
import { build } from 'esbuild';
import { buildWebApp, isWebApp } from './build-web.mjs';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = process.argv.slice(2);
const apps = (wanted.length ? wanted : readdirSync(join(root, 'apps'))).filter(
  (name) => existsSync(join(root, 'apps', name, 'src', 'main.ts')) || isWebApp(root, name),
);

for (const name of apps) {
  const started = Date.now();
  if (isWebApp(root, name)) {
    await buildWebApp(root, name);
    console.log(`built dist/apps/${name}/ (web) in ${Date.now() - started} ms`);
    continue;
  }
  const result = await build({
    entryPoints: [join(root, 'apps', name, 'src', 'main.ts')],
    outfile: join(root, 'dist', 'apps', name, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    tsconfig: join(root, 'tsconfig.base.json'),
    // pm2 is only used by tools and tests. ioredis is required from node_modules when it is
    // used (collab-server --redis loads its Redis storage on demand): bundled, its 0.4 MB of
    // source would sit in every server's memory (V8 keeps a script's whole text). Everything
    // else an app needs is bundled in.
    external: ['pm2', 'ioredis'],
    define: { COLLAB_VERSION: JSON.stringify(pkg.version) },
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) {
    // esbuild escapes non-ASCII characters in code, not in the comments it keeps; one of those
    // makes V8 hold the whole bundle's source as two bytes a character (3 MiB instead of 1.6):
    // escaped there too, as \uXXXX (inert in a comment, the same character anywhere else).
    const text = file.path.endsWith('.js')
      ? file.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : file.text;
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, text);
  }
  console.log(`built dist/apps/${name}/main.js in ${Date.now() - started} ms`);
}
