// temp.txt is live: the built server, three clients typing lines, and the file edited meanwhile
// with real tools (sed -i, >>, a rewrite in place, cp of an old copy, vim in tmux with its
// default backup and writebackup), and a kill -9 between an edit and its merge. Every line a
// client had ACKed is kept, the outside edit lands, and the file, the document and every client
// end up equal.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { CollabSession } from '@collab/collab-protocol';
import { freePort, waitFor, waitForPort } from '@collab/testing';

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-server', 'main.js');
const TYPISTS = 3;
/** Bounds of one typing run: lines per client, and time. */
const MAX_LINES = 400;
const MAX_TYPING_MS = 20_000;

let dataDir: string;
let port: number;
let server: { child: ChildProcess; output: () => string } | undefined;
const children: ChildProcess[] = [];

function startServer(): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [main, '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'update'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** A client typing lines at the end of the document, remembering which change carried each. */
class Typist {
  readonly doc = new Y.Doc();
  session!: CollabSession;
  /** Each line typed, with the number of the change that carried it on its session. */
  readonly lines: { line: string; change: number; session: CollabSession }[] = [];
  /** Lines whose change the server ACKed before its session ended. */
  acked: string[] = [];
  private n = 0;

  constructor(readonly name: string) {}

  async connect(): Promise<void> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    this.session = new CollabSession(socket, { document: 'temp', clientName: this.name, doc: this.doc });
    await this.session.whenSynced();
  }

  type(): void {
    const text = this.doc.getText('content');
    const line = `${this.name} line ${this.n++}\n`;
    text.insert(text.length, line);
    this.lines.push({ line, change: this.session.sentChanges, session: this.session });
  }

  /** The lines the server has ACKed so far (on any of this client's sessions). */
  ackedLines(): string[] {
    return this.lines.filter((l) => l.change <= l.session.ackedChanges).map((l) => l.line);
  }

  text(): string {
    return this.doc.getText('content').toString();
  }
}

let typists: Typist[] = [];
const file = () => join(dataDir, 'temp.txt');
const fileText = () => readFileSync(file(), 'utf8');

/** Every client types a line every 15-35 ms while `during` runs, then a little longer. */
async function typeWhile(during: () => Promise<void>): Promise<void> {
  let typing = true;
  const started = Date.now();
  const loops = typists.map(async (t) => {
    while (typing && t.lines.length < MAX_LINES && Date.now() - started < MAX_TYPING_MS) {
      if (!t.session.isEnded) t.type();
      await new Promise((r) => setTimeout(r, 15 + Math.random() * 20));
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  await during();
  await new Promise((r) => setTimeout(r, 500));
  typing = false;
  await Promise.all(loops);
}

/** Waits until every client has every line stored, and the file, the document and every client hold one text. */
async function converged(): Promise<string> {
  await Promise.all(typists.map((t) => t.session.whenSaved()));
  await waitFor(
    () => {
      const text = typists[0].text();
      return typists.every((t) => t.text() === text) && fileText() === text;
    },
    'the file and every client to hold one text',
    15_000,
  );
  // Asked once more: the server's document itself, through a fresh client.
  const check = new Typist('checker');
  await check.connect();
  const text = check.text();
  check.session.close();
  expect(fileText()).toBe(text);
  return text;
}

/** Every line a client typed is in `text` exactly once. */
function expectEveryLineOnce(text: string): void {
  const lines = text.split('\n');
  for (const t of typists) {
    expect(t.acked.length + t.lines.length).toBeGreaterThan(10);
    for (const { line } of t.lines) expect({ line, count: lines.filter((l) => `${l}\n` === line).length }).toEqual({ line, count: 1 });
  }
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'collab-live-e2e-'));
  writeFileSync(file(), 'title\nbody\n');
  port = await freePort('127.0.0.1');
  server = startServer();
  await waitForPort(port, { stillAlive: () => server!.child.exitCode === null });
  typists = Array.from({ length: TYPISTS }, (_, i) => new Typist(`client${i}`));
  for (const t of typists) await t.connect();
});

afterEach(async () => {
  for (const t of typists) t.session?.close();
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

it('merges sed -i while three clients type', async () => {
  await typeWhile(async () => {
    execFileSync('sed', ['-i', 's/^title$/TITLE (sed)/', file()]);
  });
  const text = await converged();
  expect(text.startsWith('TITLE (sed)\nbody\n')).toBe(true);
  expectEveryLineOnce(text);
  // Logged once the change has settled (a line at a time, at most 1 s later).
  await waitFor(() => /\[UPDATE\] Document updated by file: .*TITLE \(sed\)/.test(server!.output()), 'the log line', 5000);
});

it('merges an append (>>) and a rewrite in place while three clients type', async () => {
  await typeWhile(async () => {
    execFileSync('sh', ['-c', 'echo "appended by the shell" >> temp.txt'], { cwd: dataDir });
    await new Promise((r) => setTimeout(r, 400));
    // The same file rewritten in place (truncated and written again), as `cat x > temp.txt` does.
    execFileSync('sh', ['-c', 't=$(mktemp) && sed "s/^body$/BODY (in place)/" temp.txt > "$t" && cat "$t" > temp.txt && rm "$t"'], {
      cwd: dataDir,
    });
  });
  const text = await converged();
  expect(text.startsWith('title\nBODY (in place)\n')).toBe(true);
  expect(text.split('\n').filter((l) => l === 'appended by the shell')).toHaveLength(1);
  expectEveryLineOnce(text);
});

it('merges cp of an old copy (its title changed) without undoing the lines typed since it was taken', async () => {
  let old = '';
  await typeWhile(async () => {
    await new Promise((r) => setTimeout(r, 300));
    old = join(dataDir, 'old-copy.txt');
    copyFileSync(file(), old);
    writeFileSync(old, readFileSync(old, 'utf8').replace(/^title$/m, 'TITLE (old copy)'));
    await new Promise((r) => setTimeout(r, 700)); // others type on; the server writes temp.txt a few times
    execFileSync('cp', [old, file()]);
  });
  const text = await converged();
  expect(text.startsWith('TITLE (old copy)\nbody\n')).toBe(true);
  expectEveryLineOnce(text);
});

it('merges a save from vim (:s then :w, default backup and writebackup) in tmux while three clients type', async () => {
  const socket = `collab-live-test-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  const screen = () => tmux('capture-pane', '-p', '-t', 'vim');
  // Waits for vim's screen to match; on a timeout the error shows the screen (a prompt nobody
  // expected, say). Generous: a loaded machine can take seconds to run vim.
  const waitForScreen = async (pattern: RegExp, what: string) => {
    try {
      await waitFor(() => pattern.test(screen()), what, 20_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; vim's screen:\n${screen()}`);
    }
  };
  try {
    await typeWhile(async () => {
      tmux('new-session', '-d', '-s', 'vim', '-x', '100', '-y', '30', '-c', dataDir, 'vim', '--clean', 'temp.txt');
      await waitForScreen(/"temp\.txt"|title/, 'vim to show temp.txt');
      tmux('send-keys', '-t', 'vim', ':s/^title$/TITLE (vim)/', 'Enter');
      tmux('send-keys', '-t', 'vim', ':w', 'Enter');
      // The server rewrote temp.txt since vim read it (the others type): vim asks before writing.
      await waitForScreen(/written|really want to write/, 'vim to write or ask');
      if (/really want to write/.test(screen())) tmux('send-keys', '-t', 'vim', 'y');
      await waitForScreen(/written/, 'vim to write');
      tmux('send-keys', '-t', 'vim', ':q!', 'Enter');
    });
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
  const text = await converged();
  expect(text.startsWith('TITLE (vim)\nbody\n')).toBe(true);
  expectEveryLineOnce(text);
}, 90_000);

it('merges an edit made between a kill -9 and the restart, keeping every line ACKed before the kill', async () => {
  await typeWhile(async () => undefined);
  await Promise.all(typists.map((t) => t.session.whenSaved()));
  await waitFor(() => fileText() === typists[0].text(), 'temp.txt to be written');
  // More typing, ACKed (in the log) but not yet in temp.txt: the server writes it 0.2 s later.
  for (const t of typists) t.type();
  await Promise.all(typists.map((t) => t.session.whenSaved()));
  // Frozen first, so it cannot merge the edit; then killed.
  server!.child.kill('SIGSTOP');
  execFileSync('sed', ['-i', 's/^title$/TITLE (while down)/', file()]);
  server!.child.kill('SIGKILL');
  await once(server!.child, 'exit');
  for (const t of typists) t.acked = t.ackedLines();
  server = startServer();
  await waitForPort(port, { stillAlive: () => server!.child.exitCode === null });
  for (const t of typists) await t.connect();
  await typeWhile(async () => undefined);
  const text = await converged();
  expect(text.startsWith('TITLE (while down)\nbody\n')).toBe(true);
  for (const t of typists) for (const line of t.acked) expect(text.split('\n')).toContain(line.slice(0, -1));
  expectEveryLineOnce(text);
  expect(server!.output()).toContain('temp.txt was edited while the server was stopped');
  await waitFor(() => /\[UPDATE\] Document updated by file: .*TITLE \(while down\)/.test(server!.output()), 'the log line', 5000);
});
