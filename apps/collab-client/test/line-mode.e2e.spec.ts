import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort, startClient, startCollabServer, stop, waitFor } from './built-programs';
import { startTypist } from './typist';

let dataDir: string;
let port: number;
let server: ChildProcess | undefined;
const base = () => ['--host', '127.0.0.1', '--port', String(port)];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-client-test-'));
  port = await freePort();
});

afterEach(async () => {
  await stop(server);
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('collab-client line mode', () => {
  it('greets, shows the existing document, appends each line and exits 0 once stored', async () => {
    writeFileSync(join(dataDir, 'temp.txt'), 'existing line\n');
    server = await startCollabServer(port, dataDir);
    const client = startClient(base(), 'hello\nworld\n');
    expect(await client.exited).toBe(0);
    expect(client.stdout()).toBe('Connected to the server. Start typing to edit the document:\nexisting line\n');
    const printed = startClient([...base(), '--print']);
    expect(await printed.exited).toBe(0);
    expect(printed.stdout()).toBe('existing line\nhello\nworld\n');
    await stop(server);
    expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe('existing line\nhello\nworld\n');
  });

  it("prints other clients' lines as Document updated: ...", async () => {
    server = await startCollabServer(port, dataDir);
    const watcher = startClient([...base(), '--lines']);
    await waitFor(() => watcher.stdout().includes('Start typing'), 'the greeting');
    const writer = startClient([...base(), '--host', '::1'], 'from the other one\nand more\n');
    expect(await writer.exited).toBe(0);
    await waitFor(() => watcher.stdout().includes('Document updated: and more'), 'the update lines');
    expect(watcher.stdout()).toContain('Document updated: from the other one\n');
    watcher.child.stdin!.end();
    expect(await watcher.exited).toBe(0);
  });

  it("prints another user's keystrokes a whole line at a time, with line numbers away from the end", async () => {
    server = await startCollabServer(port, dataDir);
    const watcher = startClient([...base(), '--lines']);
    await waitFor(() => watcher.stdout().includes('Start typing'), 'the greeting');
    const typist = await startTypist(port);
    await typist.type('three small words\n');
    await waitFor(() => watcher.stdout().includes('Document updated: three small words\n'), 'the line, once Enter ended it');
    await typist.type('left unfinished');
    await waitFor(() => watcher.stdout().includes('Document updated: left unfinished\n'), 'the line, after a quiet second', 5000);
    await typist.type('Just ', 0);
    await waitFor(() => watcher.stdout().includes('Document updated (line 1): Just three small words\n'), 'the changed first line', 5000);
    await typist.remove(0, 'Just three small words\n'.length);
    await waitFor(() => watcher.stdout().includes('deleted'), 'the deleted line');
    typist.close();
    watcher.child.stdin!.end();
    expect(await watcher.exited).toBe(0);
    expect(watcher.stdout()).toBe(
      [
        'Connected to the server. Start typing to edit the document:',
        'Document updated: three small words',
        'Document updated: left unfinished',
        'Document updated (line 1): Just three small words',
        'Document updated (line 1 deleted): Just three small words',
        '',
      ].join('\n'),
    );
  }, 30_000);

  it('keeps documents apart with --doc', async () => {
    server = await startCollabServer(port, dataDir);
    expect(await startClient([...base(), '--doc', 'notes', '--append', 'in notes']).exited).toBe(0);
    const temp = startClient([...base(), '--print']);
    expect(await temp.exited).toBe(0);
    expect(temp.stdout()).toBe('');
  });
});

describe('collab-client one-shot commands', () => {
  it('--append waits for the ACK and exits 0; --print shows it', async () => {
    server = await startCollabServer(port, dataDir);
    const append = startClient([...base(), '--append', 'buy milk']);
    expect(await append.exited).toBe(0);
    const printed = startClient([...base(), '--print']);
    expect(await printed.exited).toBe(0);
    expect(printed.stdout()).toBe('buy milk\n');
  });

  it('says "Connection failed" and exits 2 without a stack trace when no server is there', async () => {
    const client = startClient([...base(), '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toMatch(/^Connection failed\. Please check the server and try again\n/);
    expect(client.stderr()).not.toMatch(/\n\s+at /);
  });

  it('explains a refused token and exits 1', async () => {
    server = await startCollabServer(port, dataDir, ['--token', 'right']);
    const client = startClient([...base(), '--token', 'wrong', '--print']);
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toContain('The server refused the token.');
    const ok = startClient([...base(), '--token', 'right', '--append', 'allowed']);
    expect(await ok.exited).toBe(0);
  });

  it('says the server needs a token when none was given, exit 1', async () => {
    server = await startCollabServer(port, dataDir, ['--token', 'right']);
    const client = startClient([...base(), '--print']);
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toBe('collab-client: The server needs a token: pass --token or set COLLAB_TOKEN.\n');
  });

  it('refuses --port 0 as a usage error before connecting, exit 2', async () => {
    const client = startClient(['--host', '127.0.0.1', '--port', '0', '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toMatch(/^error: option '--port <n>' argument '0' is invalid\. must be a whole number from 1 to 65535\.\n/);
  });

  it('rejects a bad document name before connecting, exit 2', async () => {
    const client = startClient([...base(), '--doc', '../etc', '--print']);
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toMatch(/document name/i);
  });
});
