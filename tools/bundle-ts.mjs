// Bundles a TypeScript entry point of this repository for node with esbuild: @collab/* aliases
// resolve through tsconfig.base.json, npm packages stay external. Used by bench, fuzz and soak.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles `entry` (relative to the root) into `outfile` (absolute). */
export async function bundleTs(entry, outfile) {
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    packages: 'external',
    tsconfig: join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
}
