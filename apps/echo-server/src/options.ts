import { Command, Option } from 'commander';
import { configureProgram, integerIn, port, secondsIn, VERSION } from '@collab/cli';
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from './echo-server';

/** What the echo server's command line and environment ask for. */
export interface EchoServerCliOptions {
  host: string;
  port: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  idleTimeout: number;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
}

/** The echo-server command line; every flag also reads an ECHO_* environment variable (for PM2). */
export function buildProgram(): Command {
  return configureProgram(
    new Command('echo-server')
      .description('Dual-stack (IPv4 and IPv6) TCP echo server (RFC 862): every byte received is sent back.')
      .version(VERSION, '-V, --version')
      .addOption(new Option('--host <address>', 'address to listen on; :: listens on IPv6 and IPv4 at once').env('ECHO_HOST').default('::'))
      .addOption(new Option('--port <n>', 'TCP port (0: any free port)').env('ECHO_PORT').default(8081).argParser(port))
      .addOption(
        new Option('--max-connections <n>', 'connections served at once; more are logged and closed')
          .env('ECHO_MAX_CONNECTIONS')
          .default(100)
          .argParser(integerIn(1, 1_000_000)),
      )
      .addOption(
        new Option(
          '--max-connections-per-address <n>',
          'connections one remote address may hold at once; more are logged and closed (0: no limit)',
        )
          .env('ECHO_MAX_CONNECTIONS_PER_ADDRESS')
          .default(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)
          .argParser(integerIn(0, 1_000_000)),
      )
      .addOption(
        new Option('--idle-timeout <seconds>', 'close a connection silent for this long (0: never)')
          .env('ECHO_IDLE_TIMEOUT')
          .default(300)
          .argParser(secondsIn(0, 86_400)),
      )
      .addOption(
        new Option('--tls-cert <file>', 'PEM certificate (chain): serve TLS instead of plain TCP (with --tls-key)').env('ECHO_TLS_CERT'),
      )
      .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('ECHO_TLS_KEY'))
      .addOption(new Option('--log-level <level>', 'error, warn, info, update or debug').env('LOG_LEVEL').default('info'))
      .addHelpText(
        'after',
        '\nExamples:\n  echo-server --port 8081 --max-connections 50 --idle-timeout 60\n' +
          '  echo-server --tls-cert cert.pem --tls-key key.pem    # clients: echo-client HOST --tls --ca ca.pem\n',
      ),
  );
}
