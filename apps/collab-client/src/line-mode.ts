import { createInterface } from 'node:readline';
import type * as Y from 'yjs';
import { CollabSession, LineUpdates, appendLine, insertedNewlines, lineModeText } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/collab-protocol';
import { ExitCode } from '@collab/cli';
import type { OpenClient } from './connect-client';

/** Settings of line mode. */
export interface LineModeSettings {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where connection notes go (reconnecting...), so stdout stays the transcript. */
  notes: NodeJS.WritableStream;
  /** How long to wait at the end for the last lines to be stored. */
  saveTimeoutMs: number;
}

/**
 * The assignment's client: greets, prints the document, appends each input line as a new
 * line at the end, prints other people's changes a whole line at a time (LineUpdates:
 * `Document updated: ...`), and at end of input exits 0 once every line it sent is stored
 * (1 if that cannot happen in time).
 */
export async function runLineMode(open: OpenClient, settings: LineModeSettings): Promise<number> {
  const { output, notes } = settings;
  const text = open.doc.getText(TEXT_NAME);
  output.write('Connected to the server. Start typing to edit the document:\n');
  const current = text.toString();
  if (current) output.write(current.endsWith('\n') ? current : `${current}\n`);

  const updates = new LineUpdates(current, { report: (update) => output.write(`${lineModeText(update)}\n`) });
  const onChange = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    const remote = transaction.origin instanceof CollabSession;
    updates.change(text.toString(), remote ? insertedNewlines(event.delta) : undefined);
  };
  text.observe(onChange);
  const onState = (state: { kind: string; inMs?: number; reason?: string }) => {
    if (state.kind === 'reconnecting')
      notes.write(`Connection lost (${state.reason}); reconnecting in ${((state.inMs ?? 0) / 1000).toFixed(1)} s\n`);
    else if (state.kind === 'connected') notes.write('Reconnected.\n');
  };
  open.client.on('state', onState);
  try {
    const rl = createInterface({ input: settings.input, terminal: false });
    for await (const line of rl) appendLine(text, line);
    let timer: NodeJS.Timeout | undefined;
    const stored = await Promise.race([
      open.client.whenSaved().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), settings.saveTimeoutMs))),
    ]).catch(() => false);
    clearTimeout(timer);
    // Whatever others were still typing is printed as it is now.
    updates.flush();
    if (!stored) {
      notes.write(`collab-client: the last lines could not be stored within ${settings.saveTimeoutMs / 1000} s\n`);
      return ExitCode.Failure;
    }
    return ExitCode.Ok;
  } finally {
    text.unobserve(onChange);
    updates.close();
    open.client.off('state', onState);
  }
}
