// The built programs as a user runs them: collab-server on its one port, the assignment's
// client.py (python3, as written) and the built collab-client --append side by side.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, seedClientPath, waitFor, waitForPort } from '@collab/testing';

const dist = join(__dirname, '..', '..', '..', 'dist', 'apps');
const children: ChildProcess[] = [];
let dataDir: string;

function run(command: string, args: string[]) {
  const child = spawn(command, args, { cwd: dataDir, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-plain-e2e-'));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it("serves client.py and collab-client on one port: each sees the other's lines, temp.txt holds them all", async () => {
  writeFileSync(join(dataDir, 'temp.txt'), 'from the file\n');
  const port = await freePort();
  const server = run(process.execPath, [join(dist, 'collab-server', 'main.js'), '--port', String(port)]);
  await waitForPort(port, { stillAlive: () => server.child.exitCode === null });

  const py = run('python3', [seedClientPath('collab_client.py'), String(port)]);
  await waitFor(() => py.output().includes('Document updated: from the file\n'), 'client.py shows the document');
  py.child.stdin!.write('typed in client.py\n');
  await waitFor(() => readFileSync(join(dataDir, 'temp.txt'), 'utf8') === 'from the file\ntyped in client.py\n', 'temp.txt');

  const appended = spawnSync(
    process.execPath,
    [join(dist, 'collab-client', 'main.js'), '--port', String(port), '--host', '127.0.0.1', '--append', 'from collab-client'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  expect(appended.status).toBe(0);
  expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe('from the file\ntyped in client.py\nfrom collab-client\n');
  await waitFor(() => py.output().includes('Document updated: from collab-client\n'), "collab-client's line reaches client.py");

  py.child.stdin!.end();
  expect(await py.exited).toBe(0);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  const log = server.output();
  expect(log).toMatch(/\[INFO\] New client connected: text \(127\.0\.0\.1:\d+\)\n/);
  expect(log).toMatch(/\[UPDATE\] Document updated by text \(127\.0\.0\.1:\d+\): typed in client\.py\n/);
  expect(log).toMatch(/\[INFO\] Broadcasted update to client text \(127\.0\.0\.1:\d+\)\n/);
}, 60_000);
