// The terminal edge of the editor: raw mode, the alternate screen, keypress events, resize
// and signals. Whatever happens (Ctrl-Q, SIGTERM, SIGHUP, an uncaught error) the terminal is
// given back as it was: raw mode off, main screen back, cursor visible, bracketed paste off.
import { emitKeypressEvents } from 'node:readline';
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { ReconnectingClient } from '@collab/collab-protocol';
import { Editor, type TerminalPort } from './editor';
import type { Keypress } from './key-bindings';

/** What main.ts hands the editor. */
export interface EditorSettings {
  client: ReconnectingClient; // already started and synced
  doc: Y.Doc; // text in doc.getText(TEXT_NAME)
  awareness: Awareness; // local state is ours to set (user name/color, cursor)
  server: string; // e.g. 'localhost:8080', for the status line
  document: string; // e.g. 'temp'
  name: string; // the user's display name
  input: NodeJS.ReadStream; // process.stdin (a TTY)
  output: NodeJS.WriteStream; // process.stdout (a TTY)
}

/** Alternate screen, bracketed paste on, screen cleared. */
export const ENTER_SCREEN = '\x1b[?1049h\x1b[?2004h\x1b[H\x1b[2J';
/** Bracketed paste off, attributes reset, cursor shown, main screen back. */
export const LEAVE_SCREEN = '\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l';

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 143, SIGHUP: 129, SIGINT: 130 };

/** Runs the full-screen editor until the user quits; resolves with the exit code (0). */
export function runEditor(settings: EditorSettings): Promise<number> {
  const { input, output } = settings;
  return new Promise<number>((resolve, reject) => {
    let finished = false;
    let restored = false;
    const terminal: TerminalPort = {
      get columns() {
        return output.columns;
      },
      get rows() {
        return output.rows;
      },
      write: (data) => {
        output.write(data);
      },
    };
    const editor = new Editor({
      doc: settings.doc,
      awareness: settings.awareness,
      connection: settings.client,
      server: settings.server,
      document: settings.document,
      name: settings.name,
      terminal,
      onQuit: () => finish(0),
    });

    // Synchronous, so it also works from the 'exit' event as a last resort.
    const restore = () => {
      if (restored) return;
      restored = true;
      try {
        if (input.isTTY) input.setRawMode(false);
      } catch {
        // the terminal may be gone (SIGHUP); nothing left to restore then
      }
      try {
        output.write(LEAVE_SCREEN);
      } catch {
        // same
      }
    };

    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        try {
          fn(...args);
        } catch (error) {
          finish(1, error);
        }
      };
    const onKey = guard((str: string | undefined, key: Keypress | undefined) => editor.handleKey(str, key ?? {}));
    const onResize = guard(() => editor.resize());
    const onSignal = (signal: NodeJS.Signals) => finish(SIGNAL_EXIT[signal] ?? 1);
    const onFatal = (error: unknown) => finish(1, error);
    const onOutputError = () => finish(1);
    // The terminal went away without a SIGHUP (stdin closed): nothing more can be typed.
    const onInputEnd = () => finish(0);
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

    function finish(code: number, error?: unknown): void {
      if (finished) return;
      finished = true;
      input.off('keypress', onKey);
      input.off('end', onInputEnd);
      output.off('resize', onResize);
      for (const s of signals) process.off(s, onSignal);
      process.off('uncaughtException', onFatal);
      process.off('unhandledRejection', onFatal);
      try {
        editor.destroy();
      } catch {
        // restoring the terminal matters more than a clean goodbye
      }
      restore();
      process.off('exit', restore);
      input.pause();
      // One more turn of the loop lets our "left" awareness update reach the socket before
      // main.ts closes the connection.
      setImmediate(() => {
        output.off('error', onOutputError);
        if (error) reject(error);
        else resolve(code);
      });
    }

    try {
      emitKeypressEvents(input);
      if (input.isTTY) input.setRawMode(true);
      output.write(ENTER_SCREEN);
      input.on('keypress', onKey);
      input.on('end', onInputEnd);
      output.on('resize', onResize);
      output.on('error', onOutputError);
      for (const s of signals) process.on(s, onSignal);
      process.on('uncaughtException', onFatal);
      process.on('unhandledRejection', onFatal);
      process.on('exit', restore);
      input.resume();
      editor.start();
    } catch (error) {
      finish(1, error);
    }
  });
}
