// `nx run collab-client:serve` reads the same COLLAB_* variables as the client itself, and
// passes on the flags given after it: a built collab-server on ::1 (with a token) is the target.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot, waitForPort } from '@collab/testing';
import { built, stop } from './built-programs';

const run = promisify(execFile);
let server: ChildProcess | undefined;
let dataDir: string;
let port: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-serve-'));
  writeFileSync(join(dataDir, 'notes.txt'), 'hello from notes\n');
  writeFileSync(join(dataDir, 'temp.txt'), 'the default document\n');
  port = await freePort('::1');
  server = spawn(
    process.execPath,
    // No web port: 8090, its default, may be taken by the servers of the README's quick start.
    [
      built('collab-server'),
      '--host',
      '::1',
      '--port',
      String(port),
      '--ws-port',
      'off',
      '--data-dir',
      dataDir,
      '--token',
      's3cret',
      '--log-level',
      'error',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      // Only what this test sets: a COLLAB_* variable of the caller must not configure the server.
      env: { PATH: process.env.PATH },
    },
  );
  await waitForPort(port, { host: '::1', stillAlive: () => server?.exitCode === null });
});

afterAll(async () => {
  await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npx nx run collab-client:serve ARGS` with these variables (the client is built by the test target already). */
async function serve(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const { stdout } = await run('npx', ['nx', 'run', 'collab-client:serve', '--excludeTaskDependencies', ...args], {
    cwd: repoRoot(),
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...env },
    timeout: 60_000,
  });
  return stdout;
}

describe('nx run collab-client:serve', () => {
  it('connects where COLLAB_HOST, COLLAB_PORT, COLLAB_DOC and COLLAB_TOKEN say', async () => {
    const out = await serve({ COLLAB_HOST: '::1', COLLAB_PORT: String(port), COLLAB_DOC: 'notes', COLLAB_TOKEN: 's3cret' }, ['--print']);
    expect(out).toContain('\nhello from notes\n');
  }, 90_000);

  it('lets flags after it win over the variables', async () => {
    const out = await serve({ COLLAB_HOST: '::1', COLLAB_PORT: String(port), COLLAB_DOC: 'notes', COLLAB_TOKEN: 's3cret' }, [
      '--doc',
      'temp',
      '--print',
    ]);
    expect(out).toContain('\nthe default document\n');
  }, 90_000);
});
