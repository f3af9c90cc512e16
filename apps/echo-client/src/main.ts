import { buildProgram, type EchoClientCliOptions } from './options';
import { openConnection } from './connection';
import { runLineMode } from './line-mode';
import { runPingMode } from './ping-mode';
import { runThroughputMode } from './throughput-mode';
import { runProgram } from '@collab/cli';
import { loadCertificateAuthority } from '@collab/address';

const program = buildProgram();

void runProgram(program, process.argv, async () => {
  const options = program.opts<EchoClientCliOptions>();
  const target = program.args[0];
  const family = options.ipv4 ? 4 : options.ipv6 ? 6 : 0;
  const timeoutMs = options.timeout * 1000;
  const ca = options.ca !== undefined ? await loadCertificateAuthority(options.ca) : undefined;
  const tls = options.tls ? { ca, untrustedHint: '(use --ca FILE to trust its CA)' } : undefined;
  const connectSettings = { defaultPort: options.port, family, timeoutMs, tls } as const;
  const pingMode = options.count !== undefined || options.size !== undefined || program.getOptionValueSource('interval') === 'cli';

  if (options.throughput === undefined && !pingMode) {
    return runLineMode({
      ...connectSettings,
      target,
      input: process.stdin,
      output: process.stdout,
      notes: process.stderr,
      interactive: Boolean(process.stdin.isTTY),
    });
  }
  if (!target) {
    program.error('a host is required in ping and throughput modes, e.g. echo-client ::1 --count 5');
  }
  const connection = await openConnection({ ...connectSettings, target });
  try {
    if (options.throughput !== undefined) {
      return await runThroughputMode(connection, {
        durationMs: options.throughput * 1000,
        chunkBytes: options.size ?? 65536,
        drainTimeoutMs: Math.max(timeoutMs, 1000),
        json: Boolean(options.json),
        output: process.stdout,
        progress: process.stderr.isTTY && !options.json ? process.stderr : undefined,
      });
    }
    return await runPingMode(connection, {
      count: options.count ?? 5,
      sizeBytes: options.size ?? 64,
      intervalMs: options.interval * 1000,
      timeoutMs,
      json: Boolean(options.json),
      output: process.stdout,
    });
  } finally {
    connection.close();
  }
});
