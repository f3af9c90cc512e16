// Bundles a browser app (apps/NAME/src/page/main.ts, beside an index.html) with esbuild into
// dist/apps/NAME/: editor.js (every dependency inside: CodeMirror, Yjs, y-websocket; no CDN),
// and the page's static files copied as they are. collab-server serves that directory.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';

const STATIC = new Set(['.html', '.css', '.svg', '.png']);

/** Whether apps/NAME is a browser app (it has src/index.html). */
export function isWebApp(root, name) {
  return existsSync(join(root, 'apps', name, 'src', 'index.html'));
}

/** Builds apps/NAME into dist/apps/NAME; returns the output directory. */
export async function buildWebApp(root, name) {
  const src = join(root, 'apps', name, 'src');
  const out = join(root, 'dist', 'apps', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(src, 'page', 'main.ts')],
    outfile: join(out, 'editor.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    // Beside the bundle for whoever debugs the page, not linked from it: the server keeps what it
    // serves in memory, and a 2 MiB map nobody asks for is not worth that.
    sourcemap: 'external',
    legalComments: 'linked',
    tsconfig: join(root, 'apps', name, 'tsconfig.json'),
    logLevel: 'warning',
  });
  for (const file of readdirSync(src)) if (STATIC.has(extname(file))) copyFileSync(join(src, file), join(out, file));
  return out;
}
