import { buildProgram, type CollabClientCliOptions } from './options';
import { connectClient, ConnectFailedError } from './connect-client';
import { runLineMode } from './line-mode';
import { appendAndWait, printDocument } from './one-shot';
import { runEditor } from './editor/run-editor';
import { ExitCode, runProgram } from '@collab/cli';
import { loadCertificateAuthority } from '@collab/address';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<CollabClientCliOptions>();
  const timeoutMs = options.timeout * 1000;
  const ca = options.ca !== undefined ? await loadCertificateAuthority(options.ca) : undefined;
  let open;
  try {
    open = await connectClient({
      host: options.host,
      port: options.port,
      document: options.doc,
      name: options.name,
      token: options.token,
      connectTimeoutMs: Math.min(timeoutMs, 10_000),
      tls: options.tls ? { ca, untrustedHint: '(use --ca FILE to trust its CA)' } : undefined,
    });
  } catch (error) {
    if (error instanceof ConnectFailedError) {
      // The assignment's sentence on a line of its own, then why.
      process.stderr.write(`${error.message}\n`);
      return ExitCode.Usage;
    }
    throw error;
  }
  try {
    if (options.print) return printDocument(open, process.stdout);
    if (options.append !== undefined) {
      return await appendAndWait(open, options.append, {
        document: options.doc,
        timeoutMs,
        waitForFile: options.waitFile,
        errors: process.stderr,
      });
    }
    if (options.lines || !process.stdin.isTTY || !process.stdout.isTTY) {
      return await runLineMode(open, { input: process.stdin, output: process.stdout, notes: process.stderr, saveTimeoutMs: timeoutMs });
    }
    return await runEditor({
      client: open.client,
      doc: open.doc,
      awareness: open.awareness,
      server: open.server,
      document: options.doc,
      name: options.name,
      input: process.stdin,
      output: process.stdout,
    });
  } finally {
    open.close();
  }
});
