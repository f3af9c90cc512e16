// A program in a real pseudo-terminal, for interactive mode: tmux on a private socket (never
// the user's own server), no status bar, the program under a shell that prints its exit code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/** One program in one tmux pane; kill() stops it, its shell and the tmux server. */
export class TerminalSession {
  private readonly socket = `echo-client-test-${process.pid}-${counter++}`;
  private readonly configDir = mkdtempSync(join(tmpdir(), 'echo-client-tmux-'));

  /** Starts argv in an 80x24 terminal; when it exits the screen shows `[exited CODE]`. */
  constructor(argv: string[]) {
    const config = join(this.configDir, 'tmux.conf');
    writeFileSync(config, 'set -g status off\nset -g history-limit 0\n');
    const shell = ['sh', '-c', '"$@"; echo "[exited $?]"; exec sleep 600', 'sh', ...argv];
    this.tmux('-f', config, 'new-session', '-d', '-s', 'main', '-x', '80', '-y', '24', '-e', 'LANG=C.UTF-8', ...shell);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The screen's lines, trailing blanks trimmed. */
  screen(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main')
      .replace(/\n+$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }

  /** Types text as keystrokes. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Presses keys by tmux name: Enter, C-c, C-d. */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Waits until a screen line passes `check`; fails showing the screen. */
  async waitForLine(check: (line: string) => boolean, what: string, timeoutMs = 10_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.screen();
      if (lines.some(check)) return lines;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the screen was:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Stops the pane's shell by pid, then the tmux server; safe to call twice. */
  kill(): void {
    try {
      const pid = Number(this.tmux('display-message', '-p', '-t', 'main', '#{pane_pid}').trim());
      const socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
      if (pid > 0) process.kill(pid, 'SIGKILL');
      this.tmux('kill-server');
      rmSync(socketPath, { force: true });
    } catch {
      // already gone
    }
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
