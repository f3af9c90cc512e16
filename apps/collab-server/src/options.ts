import { Command, Option } from 'commander';
import { configureProgram, integerIn, port, secondsIn, VERSION } from '@collab/cli';

/** What the collab server's command line and environment ask for. */
export interface CollabServerCliOptions {
  host: string;
  port: number;
  dataDir: string;
  maxClients: number;
  maxFrame: number;
  idleTimeout: number;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  maxConnectionsPerAddress: number;
  maxDocuments: number;
  maxEditsPerSecond: number;
  maxBytesPerSecond: number;
  maxDocumentChars: number;
}

/** The collab-server command line; every flag also reads a COLLAB_* environment variable (for PM2). */
export function buildProgram(): Command {
  return configureProgram(
    new Command('collab-server')
      .description('Collaborative plain-text editing server: hosts shared documents, relays every edit, stores it durably before acknowledging it.')
      .version(VERSION, '-V, --version')
      .addOption(new Option('--host <address>', 'address to listen on; :: listens on IPv6 and IPv4 at once').env('COLLAB_HOST').default('::'))
      .addOption(new Option('--port <n>', 'TCP port (0: any free port)').env('COLLAB_PORT').default(8080).argParser(port))
      .addOption(
        new Option('--data-dir <path>', 'directory holding NAME.txt and the update logs')
          .env('COLLAB_DATA_DIR')
          .default('.', 'the working directory'),
      )
      .addOption(new Option('--max-clients <n>', 'clients connected at once; one more gets "server full"').env('COLLAB_MAX_CLIENTS').default(10).argParser(integerIn(1, 100_000)))
      .addOption(
        new Option('--max-frame <bytes>', 'largest frame accepted; a larger one is refused with ERROR 4')
          .env('COLLAB_MAX_FRAME')
          .default(16 * 1024 * 1024)
          .argParser(integerIn(1024, 1024 * 1024 * 1024)),
      )
      .addOption(
        new Option('--idle-timeout <seconds>', 'close a client silent this long (clients ping every 15 s; 0: never)')
          .env('COLLAB_IDLE_TIMEOUT')
          .default(60)
          .argParser(secondsIn(0, 86_400)),
      )
      .addOption(
        new Option('--max-connections-per-address <n>', 'connections one remote address may hold at once (0: no limit)')
          .env('COLLAB_MAX_CONNECTIONS_PER_ADDRESS')
          .default(64)
          .argParser(integerIn(0, 1_000_000)),
      )
      .addOption(new Option('--max-documents <n>', 'documents open at once; a client asking for one more is told the server is full').env('COLLAB_MAX_DOCUMENTS').default(1000).argParser(integerIn(1, 1_000_000)))
      .addOption(
        new Option('--max-edits-per-second <n>', 'edits a second per client; past it the server reads from that client more slowly')
          .env('COLLAB_MAX_EDITS_PER_SECOND')
          .default(1000)
          .argParser(integerIn(1, 10_000_000)),
      )
      .addOption(
        new Option('--max-bytes-per-second <n>', 'bytes a second per client; past it the server reads from that client more slowly')
          .env('COLLAB_MAX_BYTES_PER_SECOND')
          .default(8 * 1024 * 1024)
          .argParser(integerIn(1024, 1024 * 1024 * 1024)),
      )
      .addOption(
        new Option('--max-document-chars <n>', 'longest document in characters; an edit past it is refused (ERROR 10)')
          .env('COLLAB_MAX_DOCUMENT_CHARS')
          .default(16 * 1024 * 1024)
          .argParser(integerIn(1, 1024 * 1024 * 1024)),
      )
      .addOption(new Option('--token <secret>', 'shared token clients must send (none by default)').env('COLLAB_TOKEN'))
      .addOption(new Option('--tls-cert <file>', 'PEM certificate (chain): clients must connect with TLS (with --tls-key)').env('COLLAB_TLS_CERT'))
      .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('COLLAB_TLS_KEY'))
      .addOption(new Option('--log-level <level>', 'error, warn, info, update or debug').env('LOG_LEVEL').default('info'))
      .addHelpText(
        'after',
        '\nExamples:\n  collab-server --port 8080 --data-dir /var/lib/collab --max-clients 20 --token s3cret\n' +
          '  collab-server --tls-cert cert.pem --tls-key key.pem --token s3cret   # clients: --tls --ca ca.pem\n',
      ),
  );
}
