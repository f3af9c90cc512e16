// The full-screen editor as a user runs it: the built client in a real pseudo-terminal
// (tmux), against the built server on loopback. Screens are polled with a bounded wait.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { built, freePort, startClient, startCollabServer, stop } from './built-programs';
import { TmuxServer, type TmuxPane, type PaneView } from './editor-tmux';

const root = join(__dirname, '..', '..', '..');
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Newest modification time under a directory. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/** Builds an app when its bundle is missing or older than its sources (so the test runs what is in the tree). */
function ensureBuilt(app: string): void {
  const bundle = built(app);
  const sources = [join(root, 'apps', app, 'src'), join(root, 'libs')];
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(...sources.map(newest))) return;
  execFileSync(process.execPath, [join(root, 'tools', 'build-apps.mjs'), app], { cwd: root, stdio: 'ignore' });
}

const SIZE = { columns: 60, rows: 12 };
const STATUS = SIZE.rows - 2;

let tmux: TmuxServer;
let server: ChildProcess | undefined;
let port: number;
let dataDir: string;

function editor(name: string, options: { keepOpen?: boolean } = {}): TmuxPane {
  const argv = [process.execPath, built('collab-client'), '--host', '127.0.0.1', '--port', String(port), '--doc', 'shared', '--name', name];
  return tmux.open(name, argv, SIZE, options);
}

/** Waits until the editor is connected and every edit is stored. */
const settled = (pane: TmuxPane, extra: (v: PaneView) => boolean = () => true) =>
  pane.waitFor((v) => / connected · saved/.test(v.lines.join('\n')) && extra(v), 'connected and saved');

const text = (v: PaneView, rows = STATUS) => v.lines.slice(0, rows).map((l) => l.trimEnd());

/** The pane's rows with their colours and attributes as escape sequences. */
const styled = (pane: TmuxPane) => pane.server.run('capture-pane', '-p', '-e', '-t', pane.target).split('\n');

(hasTmux ? describe : describe.skip)('terminal editor in a real terminal (tmux)', () => {
  jest.setTimeout(60_000);

  beforeAll(() => {
    ensureBuilt('collab-server');
    ensureBuilt('collab-client');
  });

  beforeEach(async () => {
    tmux = new TmuxServer();
    dataDir = mkdtempSync(join(tmpdir(), 'collab-editor-e2e-'));
    port = await freePort();
    server = await startCollabServer(port, dataDir);
  });

  afterEach(async () => {
    tmux.kill();
    await stop(server, 'SIGKILL');
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows one editor's typing in the other, and each other's cursor with its name", async () => {
    const ann = editor('ann');
    const bob = editor('bob');
    await settled(ann, (v) => v.lines[STATUS]!.includes('with  bob'));
    await settled(bob, (v) => v.lines[STATUS]!.includes('with  ann'));

    ann.type('Hello from ann, 漢字 and 👍!');
    const seen = await bob.waitForText('Hello from ann, 漢字 and 👍!');
    // Ann's cursor is at the end of her text; Bob sees it there, labelled with her name.
    expect(seen.lines[0]).toMatch(/Hello from ann, 漢字 and 👍! ann/);
    // Wide characters take two cells: 16 + 4 (漢字) + 5 + 2 (👍) + 1 = column 28.
    expect((await ann.waitFor((v) => v.cursor.x === 28, 'the cursor after the text')).cursor).toEqual({ x: 28, y: 0 });

    bob.press('C-End', 'Enter');
    bob.type('and bob');
    const annSees = await ann.waitForText('and bob bob');
    expect(text(annSees).slice(0, 3)).toEqual(['Hello from ann, 漢字 and 👍!', 'and bob bob', '']);
    await settled(bob, (v) => v.cursor.x === 7 && v.cursor.y === 1);
  });

  it('keeps an idle cursor at the end where it was while someone else types after it', async () => {
    const ann = editor('ann');
    const bob = editor('bob');
    await settled(ann, (v) => v.lines[STATUS]!.includes('with  bob'));
    await settled(bob, (v) => v.lines[STATUS]!.includes('with  ann'));
    ann.type('hello');
    ann.press('Enter');
    await bob.waitForText('hello');
    bob.press('C-End');
    bob.type('world');
    const seen = await ann.waitFor((v) => v.lines[1]!.startsWith('world bob'), "bob's text and cursor on the last line");
    // Ann's cursor did not move: start of the last line, before bob's text.
    expect(seen.cursor).toEqual({ x: 0, y: 1 });
    ann.type('> ');
    await bob.waitFor((v) => v.lines[1]!.startsWith('> world'), "ann's text before bob's");
  });

  it('moves by word with Ctrl-Left and Ctrl-Right', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('say hello, world');
    await ann.waitForText('say hello, world');
    ann.press('C-Left', 'C-Left');
    await ann.waitFor((v) => v.cursor.x === 4, 'the cursor at the start of "hello"');
    ann.press('C-Right');
    await ann.waitFor((v) => v.cursor.x === 9, 'the cursor after "hello"');
    ann.type('!');
    await ann.waitForText('say hello!, world');
  });

  it('selects with Shift, cuts with Ctrl-X and pastes with Ctrl-V; Ctrl-C copies the line and does not quit', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('alpha beta gamma');
    await ann.waitForText('alpha beta gamma');
    ann.press('C-Left', 'C-S-Left', 'S-Left');
    // The selection (" beta ") is drawn in reverse video.
    await ann.waitFor(() => /\x1b\[7m beta \x1b\[0?m/.test(styled(ann)[0]!), 'the selection in reverse video');
    ann.press('C-x');
    await ann.waitFor((v) => v.lines[0]!.trimEnd() === 'alphagamma', 'the selection cut');
    ann.press('End', 'C-v');
    await ann.waitFor((v) => v.lines[0]!.trimEnd() === 'alphagamma beta', 'the selection pasted at the end');
    ann.press('C-c');
    await ann.waitForText('Copied the line');
    ann.press('Enter', 'C-v');
    await ann.waitFor((v) => v.lines[1]!.trimEnd() === 'alphagamma beta', 'the copied line pasted below');
    await settled(ann, (v) => v.cursor.x === 0 && v.cursor.y === 2);
  });

  it('finds text with Ctrl-F: Enter goes to the next match and wraps to the top', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('one fish');
    ann.press('Enter');
    ann.type('two fish');
    await ann.waitForText('two fish');
    ann.press('C-Home', 'C-f');
    await ann.waitForText('Find:');
    ann.type('fish');
    // While the prompt is open the terminal's cursor is in it; the match shows selected.
    const selectedOnRow = (row: number) => () => /\x1b\[7mfish/.test(styled(ann)[row] ?? '');
    ann.press('Enter');
    await ann.waitFor(selectedOnRow(0), 'the first match selected');
    expect(ann.view().cursor).toEqual({ x: 11, y: STATUS });
    ann.press('Enter');
    await ann.waitFor(selectedOnRow(1), 'the second match selected');
    ann.press('Enter');
    await ann.waitFor((v) => selectedOnRow(0)() && v.lines[STATUS]!.includes('Wrapped to the top'), 'the search wrapped');
    ann.press('Escape');
    const done = await ann.waitFor((v) => v.lines[STATUS]!.includes('connected'), 'the status line back');
    expect(done.cursor).toEqual({ x: 8, y: 0 });
  });

  it('shows every key on the help screen with F1 and Ctrl-G, and says what an unbound key is', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('my text');
    ann.press('F1');
    await ann.waitForText('Keys (arrows');
    ann.press('PageDown');
    await ann.waitForText('Ctrl-X');
    ann.press('q');
    await ann.waitFor((v) => v.lines[0]!.trimEnd() === 'my text', 'the text back, without the q');
    ann.press('C-g');
    await ann.waitForText('Keys (arrows');
    ann.press('Escape');
    await ann.waitFor((v) => v.lines[0]!.trimEnd() === 'my text', 'the text back');
    ann.press('C-b');
    await ann.waitForText('Ctrl-B does nothing here');
  });

  it('redraws correctly when the terminal is resized', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('abcdefghijklmnopqrstuvwxyz 0123456789 漢字漢字漢字漢字');
    await ann.waitForText('漢字漢字漢字漢字');
    await settled(ann);

    ann.resize(20, 8);
    const small = await ann.waitFor(
      (v) => v.lines.length === 8 && v.lines[0]!.trimEnd() === 'abcdefghijklmnopqrst',
      'the text re-wrapped at 20 columns',
    );
    expect(text(small, 6)).toEqual(['abcdefghijklmnopqrst', 'uvwxyz 0123456789 漢', '字漢字漢字漢字', '', '', '']);
    expect(small.lines[6]).toContain('connected');
    expect(small.lines[7]).toMatch(/^\^Q quit/);
    expect(small.cursor).toEqual({ x: 14, y: 2 });

    ann.resize(70, 14);
    const big = await ann.waitFor((v) => v.lines.length === 14 && v.lines[0]!.includes('漢字漢字漢字漢字'), 'the text on one row again');
    expect(text(big, 3)).toEqual(['abcdefghijklmnopqrstuvwxyz 0123456789 漢字漢字漢字漢字', '', '']);
    expect(big.lines[12]).toContain('127.0.0.1');
    expect(big.cursor).toEqual({ x: 54, y: 0 });
  });

  it('undoes only its own edit', async () => {
    const ann = editor('ann');
    const bob = editor('bob');
    await settled(ann, (v) => v.lines[STATUS]!.includes('bob'));
    await settled(bob, (v) => v.lines[STATUS]!.includes('ann'));
    ann.type('from ann.');
    await bob.waitForText('from ann.');
    bob.press('C-End');
    bob.type(' from bob.');
    await ann.waitForText('from ann. from bob.');

    ann.press('C-z');
    await ann.waitFor((v) => v.lines[0]!.startsWith(' from bob.'), "ann's text undone");
    const b = await bob.waitFor((v) => v.lines[0]!.startsWith(' from bob.'), "ann's text gone for bob too");
    expect(b.lines[0]).not.toContain('from ann');

    ann.press('C-y');
    await bob.waitFor((v) => v.lines[0]!.startsWith('from ann. from bob.'), 'redo');
  });

  it('pastes a large block as one edit that one undo removes', async () => {
    const ann = editor('ann');
    await settled(ann);
    ann.type('before ');
    const block = Array.from({ length: 200 }, (_, i) => `pasted line ${i}`).join('\n');
    ann.paste(block);
    await ann.waitForText('pasted line 199');
    await settled(ann);
    const printed = startClient(['--host', '127.0.0.1', '--port', String(port), '--doc', 'shared', '--print']);
    expect(await printed.exited).toBe(0);
    expect(printed.stdout()).toBe(`before ${block}`);

    ann.press('C-z');
    const after = await ann.waitFor((v) => v.lines[0]!.trimEnd() === 'before', 'the paste undone in one step');
    expect(text(after)[1]).toBe('');
  });

  it('loses nothing typed while the server restarts, and shows the reconnect', async () => {
    const ann = editor('ann');
    const bob = editor('bob');
    await settled(ann, (v) => v.lines[STATUS]!.includes('bob'));
    await settled(bob, (v) => v.lines[STATUS]!.includes('ann'));
    ann.type('one ');
    await bob.waitForText('one');

    await stop(server, 'SIGKILL');
    await ann.waitForText('reconnecting in');
    await bob.waitForText('reconnecting in');
    ann.type('two ');
    bob.press('C-End');
    bob.type('three ');
    const offline = await ann.waitFor((v) => v.lines[0]!.startsWith('one two'), 'typing while offline');
    expect(offline.lines[STATUS]).toMatch(/reconnecting in \d+s · unsaved/);

    server = await startCollabServer(port, dataDir);
    const both = (v: PaneView) => v.lines[0]!.includes('two') && v.lines[0]!.includes('three');
    // Back together: the text merged, and each sees the other again.
    await settled(ann, (v) => both(v) && v.lines[STATUS]!.includes('with  bob'));
    await settled(bob, (v) => both(v) && v.lines[STATUS]!.includes('with  ann'));
    // Concurrent inserts at one place are ordered by Yjs client id: either order is right.
    const printed = startClient(['--host', '127.0.0.1', '--port', String(port), '--doc', 'shared', '--print']);
    expect(await printed.exited).toBe(0);
    const stored = printed.stdout();
    expect(stored).toMatch(/^one (two three |three two )$/);
    expect(ann.view().lines[0]).toMatch(new RegExp(`^${stored}`));
    expect(bob.view().lines[0]).toMatch(new RegExp(`^${stored}`));
  });

  it('quits with Ctrl-Q and gives the terminal back', async () => {
    const ann = editor('ann', { keepOpen: true });
    await settled(ann);
    expect(ann.format('#{alternate_on} #{cursor_flag}')).toBe('1 1');
    ann.press('C-q');
    const after = await ann.waitForText('[exited 0]');
    // Main screen back (nothing of the editor on it), cursor visible.
    expect(after.lines.join('\n')).not.toContain('connected');
    expect(ann.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('warns on Ctrl-Q while edits are unsaved; a second Ctrl-Q quits', async () => {
    const ann = editor('ann', { keepOpen: true });
    await settled(ann);
    await stop(server, 'SIGKILL');
    await ann.waitForText('reconnecting in');
    ann.type('unsaved words');
    await ann.waitForText('unsaved words');
    ann.press('C-q');
    await ann.waitForText('Not saved yet! ^Q again to quit');
    expect(ann.format('#{alternate_on}')).toBe('1');
    ann.press('C-q');
    await ann.waitForText('[exited 0]');
    expect(ann.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('restores the terminal on SIGTERM', async () => {
    const ann = editor('ann', { keepOpen: true });
    await settled(ann);
    process.kill(ann.programPid(true), 'SIGTERM');
    await ann.waitForText('[exited 143]');
    expect(ann.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });
});
