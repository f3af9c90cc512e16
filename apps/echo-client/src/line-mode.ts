import { createInterface } from 'node:readline';
import { UserFacingError, ExitCode } from '@collab/cli';
import { openConnection, readReply, type ConnectSettings, type EchoConnection } from './connection';

const ADDRESS_PROMPT = "Enter the server address (e.g., 'localhost', '::1'): ";
const MESSAGE_PROMPT = "Enter message to send (or 'exit' to quit): ";

/** Settings of the assignment's interactive client, which also serves piped input. */
export interface LineModeSettings extends Omit<ConnectSettings, 'target'> {
  target: string | undefined;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where side notes go (the connect line when piped, so stdout holds only echoes). */
  notes: NodeJS.WritableStream;
  interactive: boolean;
}

const INTERRUPTED = Symbol('interrupted');

/**
 * Sends each line (with its newline, so an empty line is echoed too) and prints
 * `Echo from server: ...` once exactly as many bytes have come back as were sent. `exit` or
 * end of input ends it (exit 0); Ctrl-C on a terminal ends it with 130. Either leaves the
 * cursor on a new line. Returns the exit code.
 */
export async function runLineMode(settings: LineModeSettings): Promise<number> {
  const rl = createInterface({
    input: settings.input,
    output: settings.interactive ? settings.output : undefined,
    terminal: settings.interactive,
  });
  const lines = rl[Symbol.asyncIterator]();
  // On a terminal in raw mode Ctrl-C is a key readline reads, not a signal; without this
  // listener readline would just close, and the program would end as if input had ended.
  const interrupt = new AbortController();
  const interrupted = new Promise<typeof INTERRUPTED>((resolve) => {
    rl.on('SIGINT', () => {
      settings.output.write('\n');
      interrupt.abort();
      resolve(INTERRUPTED);
    });
  });
  // Only a terminal can be interrupted; piped input (maybe millions of lines) never races
  // the pending promise, which would keep a reaction per line.
  const orInterrupted = <T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> =>
    settings.interactive ? Promise.race([work, interrupted]) : work;
  const ask = async (prompt: string): Promise<string | undefined | typeof INTERRUPTED> => {
    if (settings.interactive) settings.output.write(prompt);
    const next = await orInterrupted(lines.next());
    if (next === INTERRUPTED) return INTERRUPTED;
    // Ctrl-D after a prompt: the shell's prompt must not start behind ours.
    if (next.done && settings.interactive) settings.output.write('\n');
    return next.done ? undefined : next.value;
  };

  let connection: EchoConnection | undefined;
  try {
    let target = settings.target;
    while (!target) {
      const answer = await ask(ADDRESS_PROMPT);
      if (answer === INTERRUPTED) return ExitCode.Interrupted;
      if (answer === undefined) throw new UserFacingError('no server address given', ExitCode.Usage);
      target = answer.trim() || undefined;
    }
    const connecting = openConnection({ ...settings, target, signal: interrupt.signal });
    const opened = await orInterrupted(connecting);
    if (opened === INTERRUPTED) {
      void connecting.then(
        (c) => c.close(),
        () => undefined,
      );
      return ExitCode.Interrupted;
    }
    connection = opened;
    const over = connection.tlsProtocol ? ` over ${connection.tlsProtocol}` : '';
    (settings.interactive ? settings.output : settings.notes).write(`Connected to server at ${connection.endpoint}${over}\n`);

    for (;;) {
      const line = await ask(MESSAGE_PROMPT);
      if (line === INTERRUPTED) return ExitCode.Interrupted;
      if (line === undefined || line.trim() === 'exit') break;
      const sent = Buffer.from(`${line}\n`, 'utf8');
      connection.socket.write(sent);
      const reply = await orInterrupted(readReply(connection, sent.length, settings.timeoutMs));
      if (reply === INTERRUPTED) return ExitCode.Interrupted;
      if (!reply) throw new UserFacingError(`no echo within ${settings.timeoutMs / 1000} s`, ExitCode.Failure);
      if (!reply.equals(sent)) throw new UserFacingError('the echo differs from what was sent', ExitCode.Failure);
      settings.output.write(`Echo from server: ${reply.toString('utf8', 0, reply.length - 1)}\n`);
    }
    return ExitCode.Ok;
  } finally {
    rl.close();
    connection?.close();
  }
}
