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

/**
 * Sends each line (without its newline) and prints `Echo from server: ...` once exactly as
 * many bytes have come back as were sent. `exit` or end of input ends it. Returns the exit code.
 */
export async function runLineMode(settings: LineModeSettings): Promise<number> {
  const rl = createInterface({ input: settings.input, output: settings.interactive ? settings.output : undefined, terminal: settings.interactive });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string): Promise<string | undefined> => {
    if (settings.interactive) settings.output.write(prompt);
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };

  let connection: EchoConnection | undefined;
  try {
    let target = settings.target;
    while (!target) {
      const answer = await ask(ADDRESS_PROMPT);
      if (answer === undefined) throw new UserFacingError('no server address given', ExitCode.Usage);
      target = answer.trim() || undefined;
    }
    connection = await openConnection({ ...settings, target });
    const over = connection.tlsProtocol ? ` over ${connection.tlsProtocol}` : '';
    (settings.interactive ? settings.output : settings.notes).write(`Connected to server at ${connection.endpoint}${over}\n`);

    for (;;) {
      const line = await ask(MESSAGE_PROMPT);
      if (line === undefined || line.trim() === 'exit') break;
      if (line.length === 0) continue;
      const sent = Buffer.from(line, 'utf8');
      connection.socket.write(sent);
      const reply = await readReply(connection, sent.length, settings.timeoutMs);
      if (!reply) throw new UserFacingError(`no echo within ${settings.timeoutMs / 1000} s`, ExitCode.Failure);
      if (!reply.equals(sent)) throw new UserFacingError('the echo differs from what was sent', ExitCode.Failure);
      settings.output.write(`Echo from server: ${reply.toString('utf8')}\n`);
    }
    return ExitCode.Ok;
  } finally {
    rl.close();
    connection?.close();
  }
}
