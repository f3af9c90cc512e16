// `npm run soak` (node tools/soak.mjs [--seconds N] [--json] [--seed N] [--keep]): bundles
// soak/main.ts with esbuild (so the @collab/* aliases resolve; packages stay external) and runs
// it; see soak/main.ts. Needs the built server (dist/apps/collab-server/main.js), built here
// when missing. The exit code is the suite's: 0 passed, 1 something was lost or diverged, 2 it
// could not run.
import { bundleTs } from './bundle-ts.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'apps', 'collab-server', 'main.js'))) {
  const r = spawnSync(process.execPath, [join(root, 'tools', 'build-apps.mjs'), 'collab-server'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(2);
}
// Three levels below the root, like libs/testing/src: Pm2Sandbox finds the repository (and
// node_modules/pm2) at __dirname/../../.., which in a bundle is the bundle's own folder.
const outfile = join(root, 'tmp', 'soak', 'bin', 'soak.js');
await bundleTs(`soak/main.ts`, outfile);
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
// Ctrl-C reaches the child too (same process group); it cleans up and exits, and so do we.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 2)));
