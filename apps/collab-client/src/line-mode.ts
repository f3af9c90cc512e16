import { createInterface } from 'node:readline';
import type * as Y from 'yjs';
import { CollabSession } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/persistence';
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

/** Appends `line` as a new line at the end of the text. */
export function appendLine(text: Y.Text, line: string): void {
  const current = text.toString();
  const separator = current.length > 0 && !current.endsWith('\n') ? '\n' : '';
  text.insert(text.length, `${separator}${line}\n`);
}

/** What a remote change did, one entry per line of inserted text, or the count of deleted characters. */
export function describeRemoteChange(event: Y.YTextEvent): string[] {
  let inserted = '';
  let deleted = 0;
  for (const op of event.delta) {
    if (typeof op.insert === 'string') inserted += op.insert;
    else if (typeof op.delete === 'number') deleted += op.delete;
  }
  if (inserted) return inserted.replace(/\n$/, '').split('\n');
  return deleted ? [deleted === 1 ? '(deleted 1 character)' : `(deleted ${deleted} characters)`] : [];
}

/**
 * The assignment's client: greets, prints the document, appends each input line as a new
 * line at the end, prints `Document updated: ...` for other people's changes, and at end of
 * input exits 0 once every line it sent is stored (1 if that cannot happen in time).
 */
export async function runLineMode(open: OpenClient, settings: LineModeSettings): Promise<number> {
  const { output, notes } = settings;
  const text = open.doc.getText(TEXT_NAME);
  output.write('Connected to the server. Start typing to edit the document:\n');
  const current = text.toString();
  if (current) output.write(current.endsWith('\n') ? current : `${current}\n`);

  const onRemote = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    if (!(transaction.origin instanceof CollabSession)) return;
    for (const line of describeRemoteChange(event)) output.write(`Document updated: ${line}\n`);
  };
  text.observe(onRemote);
  const onState = (state: { kind: string; inMs?: number; reason?: string }) => {
    if (state.kind === 'reconnecting') notes.write(`Connection lost (${state.reason}); reconnecting in ${((state.inMs ?? 0) / 1000).toFixed(1)} s\n`);
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
    if (!stored) {
      notes.write(`collab-client: the last lines could not be stored within ${settings.saveTimeoutMs / 1000} s\n`);
      return ExitCode.Failure;
    }
    return ExitCode.Ok;
  } finally {
    text.unobserve(onRemote);
    open.client.off('state', onState);
  }
}
