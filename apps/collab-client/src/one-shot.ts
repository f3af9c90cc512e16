import { ExitCode } from '@collab/cli';
import { ErrorCode, appendLine } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/collab-protocol';
import type { OpenClient } from './connect-client';

/** --print: writes the document exactly as it is. */
export function printDocument(open: OpenClient, output: NodeJS.WritableStream): number {
  output.write(open.doc.getText(TEXT_NAME).toString());
  return ExitCode.Ok;
}

/** How --append waits. */
export interface AppendSettings {
  /** The document, to name its NAME.txt in messages. */
  document: string;
  /** How long the whole command may wait: the ACK, then the file. */
  timeoutMs: number;
  /** Wait, after the ACK, until the server has written NAME.txt (FLUSH / FLUSHED). */
  waitForFile: boolean;
  /** Where failures and notes go (stderr). */
  errors: NodeJS.WritableStream;
}

type Outcome = { kind: 'done' } | { kind: 'failed'; error: Error & { code?: string; errorCode?: number } } | { kind: 'timeout' };

/** What `promise` came to, or 'timeout' once `deadline` (ms since the epoch) has passed. */
async function until(promise: Promise<unknown>, deadline: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        (): Outcome => ({ kind: 'done' }),
        (error: Error): Outcome => ({ kind: 'failed', error }),
      ),
      new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, deadline - Date.now())))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * --append: adds one line, waits for the server's ACK (the line is stored), then, unless told
 * not to, for FLUSHED (NAME.txt holds it), all within the timeout. Exit 0 when both came; 1
 * with the reason otherwise. An old server that does not know FLUSH (ERROR 3) stored the
 * line all the same: exit 0 with a note that the file cannot be waited for.
 */
export async function appendAndWait(open: OpenClient, line: string, settings: AppendSettings): Promise<number> {
  const { errors } = settings;
  const seconds = `${settings.timeoutMs / 1000} s`;
  const deadline = Date.now() + settings.timeoutMs;
  appendLine(open.doc.getText(TEXT_NAME), line);
  const stored = await until(open.client.whenSaved(), deadline);
  if (stored.kind !== 'done') {
    errors.write(
      `collab-client: the line was not stored: ${stored.kind === 'failed' ? stored.error.message : `not stored within ${seconds}`}\n`,
    );
    return ExitCode.Failure;
  }
  if (!settings.waitForFile) return ExitCode.Ok;
  const file = `${settings.document}.txt`;
  const written = await until(open.client.flush(), deadline);
  if (written.kind === 'done') return ExitCode.Ok;
  if (written.kind === 'failed' && written.error.code === 'COLLAB_ERR_REFUSED' && written.error.errorCode === ErrorCode.ProtocolError) {
    errors.write(`collab-client: the line is stored; this server cannot say when ${file} is written (it does not know FLUSH)\n`);
    return ExitCode.Ok;
  }
  // Stored, so running the command again would add the line twice: say so.
  const why = written.kind === 'failed' ? written.error.message : `not within ${seconds}`;
  errors.write(`collab-client: the line is stored, but the server did not confirm writing ${file}: ${why}\n`);
  return ExitCode.Failure;
}
