import { ExitCode } from '@collab/cli';
import { TEXT_NAME } from '@collab/persistence';
import type { OpenClient } from './connect-client';
import { appendLine } from './line-mode';

/** --print: writes the document exactly as it is. */
export function printDocument(open: OpenClient, output: NodeJS.WritableStream): number {
  output.write(open.doc.getText(TEXT_NAME).toString());
  return ExitCode.Ok;
}

/** --append: adds one line and waits for the server's ACK; exit 1 with the reason when it is not stored in time. */
export async function appendAndWait(open: OpenClient, line: string, timeoutMs: number, errors: NodeJS.WritableStream): Promise<number> {
  appendLine(open.doc.getText(TEXT_NAME), line);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    open.client.whenSaved().then(
      () => 'stored',
      (error: Error) => error.message,
    ),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`not stored within ${timeoutMs / 1000} s`), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome === 'stored') return ExitCode.Ok;
  errors.write(`collab-client: the line was not stored: ${outcome}\n`);
  return ExitCode.Failure;
}
