// `npm test`: type-check, lint, check the format, run every project's Jest tests through Nx, then print one line
// "N passed, N failed" summed over every suite (CI reads the last line).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const extra = process.argv.slice(2);
const summaryDir = mkdtempSync(join(tmpdir(), 'collab-test-summary-'));
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', COLLAB_TEST_SUMMARY_DIR: summaryDir };

function run(cmd, args) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status ?? 1;
}

let failedSteps = 0;
if (run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) {
  console.error('type check failed');
  failedSteps++;
}
// The web editor's page is browser code (DOM types, no Node types): checked with its own settings.
if (run('npx', ['tsc', '-p', 'apps/collab-web/tsconfig.json', '--noEmit']) !== 0) {
  console.error('type check of the web editor failed');
  failedSteps++;
}
// The layers (apps use libraries, libraries never apps, shipped code never test code) and the format.
if (run('npx', ['eslint', '--max-warnings=0', '.']) !== 0) {
  console.error('lint failed (npx eslint .)');
  failedSteps++;
}
if (run('npx', ['prettier', '--check', '--log-level=warn', '.']) !== 0) {
  console.error('format check failed (npx prettier --write . fixes it)');
  failedSteps++;
}
const nxStatus = run('npx', ['nx', 'run-many', '-t', 'test', '--parallel=1', '--outputStyle=stream', ...extra]);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of readdirSync(summaryDir)) {
  const s = JSON.parse(readFileSync(join(summaryDir, file), 'utf8'));
  failures.push(...(s.failures ?? []));
  console.log(`  ${s.project.padEnd(28)} ${String(s.passed).padStart(5)} passed ${String(s.failed).padStart(4)} failed`);
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
}
rmSync(summaryDir, { recursive: true, force: true });
if (failures.length > 0) {
  console.log(`\nFailed tests (${failures.length}):`);
  for (const f of failures) console.log(`  x ${f.test}\n${f.message.replace(/^/gm, '      ')}`);
}
// A project that crashed before reporting, or a failed type check, must still fail the run.
if (nxStatus !== 0 && failed === 0) failed = 1;
failed += failedSteps;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
