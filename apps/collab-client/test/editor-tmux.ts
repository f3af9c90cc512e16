// A real pseudo-terminal for end-to-end tests of the full-screen editor: tmux on a private
// socket (never the user's default server), with no status bar so a pane is the whole window.
// Programs run directly (argv, no shell) so a pane's pid is the program's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a pane shows: its rows of text, and where the cursor is. */
export interface PaneView {
  readonly lines: string[];
  readonly cursor: { x: number; y: number };
}

let counter = 0;

/** One tmux server on its own socket; kill() stops it and everything running in it. */
export class TmuxServer {
  readonly socket = `collab-editor-test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  private readonly configDir = mkdtempSync(join(tmpdir(), 'collab-tmux-'));
  private readonly config = join(this.configDir, 'tmux.conf');
  private started = false;

  constructor() {
    // Panes stay after their program exits, so a test can read how it left the terminal.
    writeFileSync(this.config, 'set -g status off\nset -g remain-on-exit on\nset -g history-limit 0\n');
  }

  /** Runs a tmux command on this server and returns its output. */
  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', this.config, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * Starts `argv` in a new detached session of the given size. With `keepOpen` it runs under
   * a shell that afterwards prints `[exited N]` and waits, so the test sees the terminal as the
   * program left it (a dead pane's cursor state is tmux's, not the program's).
   */
  open(session: string, argv: string[], size: { columns: number; rows: number }, options: { keepOpen?: boolean } = {}): TmuxPane {
    const envArgs = Object.entries({ LANG: 'C.UTF-8', TERM: 'xterm-256color' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const command = options.keepOpen ? ['sh', '-c', '"$@"; echo "[exited $?]"; exec sleep 600', 'sh', ...argv] : argv;
    this.run('new-session', '-d', '-s', session, '-x', String(size.columns), '-y', String(size.rows), ...envArgs, ...command);
    this.started = true;
    return new TmuxPane(this, session);
  }

  /** Kills the server (and so every program in it) and removes its socket and config; safe to call twice. */
  kill(): void {
    if (this.started) {
      let socketPath = '';
      try {
        socketPath = this.run('display-message', '-p', '#{socket_path}').trim();
        this.run('kill-server');
      } catch {
        // already gone
      }
      // kill-server leaves the socket file behind in tmux's directory.
      if (socketPath.endsWith(this.socket)) rmSync(socketPath, { force: true });
      this.started = false;
    }
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

/** One pane (a session's only window) of a TmuxServer. */
export class TmuxPane {
  constructor(
    readonly server: TmuxServer,
    readonly target: string,
  ) {}

  /** The screen as text (no colours) and the cursor. */
  view(): PaneView {
    const lines = this.server.run('capture-pane', '-p', '-t', this.target).replace(/\n$/, '').split('\n');
    const [x, y] = this.format('#{cursor_x},#{cursor_y}').split(',').map(Number);
    return { lines, cursor: { x: x!, y: y! } };
  }

  /** A tmux format evaluated for this pane, e.g. '#{alternate_on}'. */
  format(format: string): string {
    return this.server.run('display-message', '-p', '-t', this.target, format).trimEnd();
  }

  /** Types text literally, as keystrokes. */
  type(text: string): void {
    this.server.run('send-keys', '-t', this.target, '-l', text);
  }

  /** Presses named keys (tmux names: Enter, Left, C-z, PageDown...). */
  press(...keys: string[]): void {
    this.server.run('send-keys', '-t', this.target, ...keys);
  }

  /** Pastes text as a terminal would, bracketed when the program asked for it. */
  paste(text: string): void {
    this.server.run('set-buffer', '-b', 'test-paste', text);
    this.server.run('paste-buffer', '-p', '-d', '-b', 'test-paste', '-t', this.target);
  }

  /** Resizes the window, as when the user resizes their terminal. */
  resize(columns: number, rows: number): void {
    this.server.run('resize-window', '-t', this.target, '-x', String(columns), '-y', String(rows));
  }

  /** The pid of the program in the pane (under the keepOpen shell, that shell's child). */
  programPid(keepOpen: boolean): number {
    const pane = Number(this.format('#{pane_pid}'));
    if (!keepOpen) return pane;
    return Number(
      execFileSync('pgrep', ['-P', String(pane)], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
  }

  /** Polls the screen until `check` holds; fails with what was on screen after `timeoutMs`. */
  async waitFor(check: (view: PaneView) => boolean, what: string, timeoutMs = 15_000): Promise<PaneView> {
    const until = Date.now() + timeoutMs;
    let view = this.view();
    while (!check(view)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what} in ${this.target}; the screen was:\n${view.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
      view = this.view();
    }
    return view;
  }

  /** Waits until some screen line contains `text`. */
  waitForText(text: string, timeoutMs?: number): Promise<PaneView> {
    return this.waitFor((v) => v.lines.some((l) => l.includes(text)), JSON.stringify(text), timeoutMs);
  }
}
