import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { configureProgram, integerIn, secondsIn, VERSION } from '@collab/cli';
import { DEFAULT_DOCUMENT } from '@collab/collab-protocol';

/** What the collab client's command line and environment ask for. */
export interface CollabClientCliOptions {
  host: string;
  port: number;
  doc: string;
  name: string;
  token?: string;
  tls?: boolean;
  ca?: string;
  lines?: boolean;
  print?: boolean;
  append?: string;
  /** --append waits for NAME.txt too (false with --no-wait-file). */
  waitFile: boolean;
  timeout: number;
}

/** A server's port: 0 (any free port) means something only to a server, so a client takes 1 to 65535. */
const serverPort = integerIn(1, 65535);

function defaultName(): string {
  try {
    return userInfo().username || 'someone';
  } catch {
    return process.env.USER ?? 'someone';
  }
}

/** COLLAB_TLS values that mean off; commander alone takes any value of a flag's variable, "0" too, as on. */
const OFF = /^\s*(0|false|no|off)?\s*$/i;

/** The collab-client command line; connection flags also read COLLAB_* environment variables. */
export function buildProgram(): Command {
  const program = configureProgram(
    new Command('collab-client')
      .description(
        'Edit a shared plain-text document together: a full-screen terminal editor, a line mode for pipes, and one-shot commands.',
      )
      .version(VERSION, '-V, --version')
      .addOption(new Option('--host <host>', 'server name or address').env('COLLAB_HOST').default('localhost'))
      .addOption(new Option('--port <n>', 'server port, 1 to 65535').env('COLLAB_PORT').default(8080).argParser(serverPort))
      .addOption(new Option('--doc <name>', 'document to open (letters, digits, . _ -)').env('COLLAB_DOC').default(DEFAULT_DOCUMENT))
      .addOption(new Option('--name <name>', 'your name, shown to the others').env('COLLAB_NAME').default(defaultName()))
      .addOption(new Option('--token <secret>', "the server's shared token, if it has one").env('COLLAB_TOKEN'))
      .addOption(new Option('--tls', "connect with TLS and verify the server's certificate (COLLAB_TLS=0 is off)").env('COLLAB_TLS'))
      .addOption(
        new Option('--ca <file>', "PEM CA certificate(s) to trust instead of the system's (implies --tls)")
          .env('COLLAB_CA')
          .implies({ tls: true }),
      )
      .addOption(new Option('--lines', 'line mode (the default when stdin or stdout is not a terminal)'))
      .addOption(new Option('--print', 'print the document and exit').conflicts(['lines', 'append']))
      .addOption(
        new Option('--append <text>', 'append TEXT as a new line, wait until it is stored and in NAME.txt, exit').conflicts(['lines']),
      )
      .addOption(new Option('--no-wait-file', '--append: exit once the line is stored, without waiting for the server to write NAME.txt'))
      .addOption(
        new Option(
          '--timeout <seconds>',
          'one-shot commands and line mode: how long to wait for the server to store the edits (and to write NAME.txt for --append); connecting waits at most 10 s',
        )
          .default(10)
          .argParser(secondsIn(0.1, 3600)),
      )
      .addOption(new Option('--log-level <level>', 'accepted for symmetry with the servers').env('LOG_LEVEL'))
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          '  collab-client                                  # terminal editor on localhost:8080, document temp',
          '  collab-client --host ::1 --doc notes --name ann',
          '  collab-client --host collab.example.org --tls --token s3cret',
          '  collab-client --host localhost --ca ca.pem     # TLS, trusting the CA that signed the server certificate',
          '  printf "first\\nsecond\\n" | collab-client --lines',
          '  collab-client --print > copy.txt',
          '  collab-client --append "buy milk" && echo stored',
          '',
          'Exit codes: 0 success, 1 the server refused, or did not store the edit (and write NAME.txt) in time, 2 bad usage or server unreachable.',
          '',
        ].join('\n'),
      ),
  );
  // Registered after commander's own listener, so it can take its "on" back.
  program.on('optionEnv:tls', () => {
    if (OFF.test(process.env.COLLAB_TLS ?? '')) program.setOptionValueWithSource('tls', undefined, 'env');
  });
  return program;
}
