import { Command, Option } from 'commander';
import { configureProgram, integerIn, port, secondsIn, VERSION } from '@collab/cli';
import { MIN_PING_BYTES } from './ping-mode';

/** What the echo client's command line and environment ask for. */
export interface EchoClientCliOptions {
  port: number;
  ipv4?: boolean;
  ipv6?: boolean;
  count?: number;
  size?: number;
  interval: number;
  timeout: number;
  throughput?: number;
  json?: boolean;
  tls?: boolean;
  ca?: string;
}

/** The echo-client command line. */
export function buildProgram(): Command {
  return configureProgram(
    new Command('echo-client')
      .description('Echo client and network check over IPv4 and IPv6: interactive echo, piped lines, ping statistics, throughput.')
      .version(VERSION, '-V, --version')
      .argument('[host]', 'server name or address, optionally with a port: localhost, ::1, [::1]:8081 (asked for when missing)')
      .addOption(new Option('--port <n>', 'server port').env('ECHO_PORT').default(8081).argParser(port))
      .addOption(new Option('-4, --ipv4', 'use IPv4 addresses only').conflicts('ipv6'))
      .addOption(new Option('-6, --ipv6', 'use IPv6 addresses only'))
      .addOption(
        new Option('-c, --count <n>', 'ping mode: send n messages and print round-trip statistics')
          .argParser(integerIn(1, 1_000_000))
          .conflicts('throughput'),
      )
      .addOption(
        new Option('-s, --size <bytes>', `ping message size (default 64), or throughput chunk size (default 65536)`).argParser(
          integerIn(MIN_PING_BYTES, 16 * 1024 * 1024),
        ),
      )
      .addOption(
        new Option('-i, --interval <seconds>', 'ping mode: time between messages')
          .default(1)
          .argParser(secondsIn(0, 3600))
          .conflicts('throughput'),
      )
      .addOption(
        new Option('-W, --timeout <seconds>', 'how long to wait for connecting and for each echo')
          .default(5)
          .argParser(secondsIn(0.001, 3600)),
      )
      .addOption(
        new Option('-t, --throughput <seconds>', 'stream data for this long and report MB/s both ways').argParser(secondsIn(0.1, 3600)),
      )
      .addOption(new Option('--json', 'ping and throughput modes: print one JSON object instead of text'))
      .addOption(new Option('--tls', "connect with TLS and verify the server's certificate"))
      .addOption(new Option('--ca <file>', "PEM CA certificate(s) to trust instead of the system's (implies --tls)").implies({ tls: true }))
      .addOption(
        new Option('--log-level <level>', 'accepted for symmetry with the servers; the client prints results, not logs').env('LOG_LEVEL'),
      )
      .addHelpText(
        'after',
        [
          '',
          'Modes:',
          '  interactive   stdin is a terminal: prompts for messages, prints each echo; Ctrl-D or exit ends it, Ctrl-C too (exit 130)',
          '  piped         stdin is not a terminal: sends each line (empty ones too), prints each echo, exits 0 at the end',
          '  ping          --count (or --size / --interval): round trips, then min/avg/max/p50/p99 and loss',
          '  throughput    --throughput SECONDS: MB/s both ways, every byte checked',
          '',
          'Exit codes: 0 success, 1 replies lost or different (or the connection lost), 2 bad usage or server not reachable, 130 Ctrl-C.',
          '',
          'Examples:',
          '  echo-client ::1',
          "  printf 'hello\\nworld\\n' | echo-client 127.0.0.1",
          '  echo-client localhost --count 10 --interval 0.2',
          '  echo-client [::1]:8081 --throughput 5 --json',
          '  echo-client localhost --tls --ca ca.pem --count 3',
          '',
        ].join('\n'),
      ),
  );
}
