// --append as scripts use it: `collab-client --append x && tail -1 temp.txt` must show x.
// The built client against the built server (and against a server from before FLUSH).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort, startClient, startCollabServer, stop } from './built-programs';
import { TEXT_NAME } from '@collab/collab-protocol';
import { startOldServer, type OldServer } from './old-server';

let dataDir: string;
let port: number;
let server: ChildProcess | undefined;
let old: OldServer | undefined;
const target = (p = port) => ['--host', '127.0.0.1', '--port', String(p)];
const lastLine = (file: string) => readFileSync(file, 'utf8').replace(/\n$/, '').split('\n').pop();

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-client-append-'));
  port = await freePort();
});

afterEach(async () => {
  await stop(server);
  await old?.close();
  server = undefined;
  old = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('collab-client --append', () => {
  jest.setTimeout(60_000);

  it('exits only once temp.txt holds the line: `--append x && tail -1 temp.txt` shows x, 20 times out of 20', async () => {
    server = await startCollabServer(port, dataDir);
    const seen: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const append = startClient([...target(), '--append', `line ${i}`]);
      expect(await append.exited).toBe(0);
      seen.push(lastLine(join(dataDir, 'temp.txt'))!);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
  });

  it('waits for the file of the document it edits (--doc)', async () => {
    server = await startCollabServer(port, dataDir);
    const append = startClient([...target(), '--doc', 'notes', '--append', 'in notes']);
    expect(await append.exited).toBe(0);
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('in notes\n');
  });

  it('succeeds with a one-line note against a server that does not know FLUSH (ERROR 3): the line is stored', async () => {
    old = await startOldServer();
    const append = startClient([...target(old.port), '--append', 'kept']);
    expect(await append.exited).toBe(0);
    expect(append.stderr()).toBe(
      'collab-client: the line is stored; this server cannot say when temp.txt is written (it does not know FLUSH)\n',
    );
    expect(old.doc.getText(TEXT_NAME).toString()).toBe('kept\n');
  });

  it('does not ask for the file with --no-wait-file', async () => {
    old = await startOldServer();
    const append = startClient([...target(old.port), '--append', 'quick', '--no-wait-file']);
    expect(await append.exited).toBe(0);
    expect(append.stderr()).toBe('');
  });

  it('fails after --timeout when the file is never confirmed, saying the line is stored', async () => {
    old = await startOldServer({ flush: 'ignore' });
    const started = Date.now();
    const append = startClient([...target(old.port), '--append', 'late', '--timeout', '1']);
    expect(await append.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(append.stderr()).toBe('collab-client: the line is stored, but the server did not confirm writing temp.txt: not within 1 s\n');
  });
});
