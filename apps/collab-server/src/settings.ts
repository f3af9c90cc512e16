// Every setting of collab-server in one table: its flag, its environment variable (for PM2), its
// default (the core's defaults come from @collab/collab-core) and how it is checked. The command
// line, --help and the checks at start all come from here, so they cannot disagree.

import { Command, InvalidArgumentError, Option } from 'commander';
import {
  CORE_SETTING_RULES,
  DEFAULT_CORE_SETTINGS,
  InvalidSettingError,
  resolveCoreSettings,
  type CoreSettings,
} from '@collab/collab-core';
import { configureProgram, integerIn, onOff, port, secondsIn, VERSION } from '@collab/cli';
import { parseLogLevel } from '@collab/logging';
import { OriginListError, parseOriginPolicy, SAME_ORIGIN, type OriginPolicy } from './web/origin-policy';

/** What the command line and the environment ask of collab-server. */
export interface ServerSettings {
  host: string;
  port: number;
  dataDir: string;
  /** Merge outside edits of NAME.txt while its document is open. */
  watchFiles: boolean;
  tlsCert?: string;
  tlsKey?: string;
  /** The web port (web editor and WebSocket); undefined when off. */
  wsPort?: number;
  /** Which pages may open a WebSocket. */
  origins: OriginPolicy;
  logLevel: string;
  /** Redis scale-out (--redis); undefined without it. */
  redis?: { url: string; allowUnsafe: boolean; leaseMs: number; trimEntries: number };
  /** The core's limits, checked (every one present). */
  core: CoreSettings;
}

type CoreKey = keyof typeof CORE_SETTING_RULES;

/** One row of the table: a server setting, or one of the core's limits (`core`), in seconds when `seconds`. */
interface SettingSpec {
  flags: string;
  env: string;
  description: string;
  /** The core setting it sets; its default and range come from the core. */
  core?: CoreKey | 'token';
  /** The flag is in seconds, the core setting in milliseconds. */
  seconds?: boolean;
  /** For server settings: the default and the parser. */
  default?: unknown;
  defaultDescription?: string;
  parse?: (value: string) => unknown;
}

const logLevel = (value: string) => {
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
};

/** `--ws-port`: a port (0: any free one), or `off` (also `false`, `no`, `none`) for no web port. */
const wsPort = (value: string): number | false => {
  if (/^(off|false|no|none)$/i.test(value.trim())) return false;
  try {
    return port(value);
  } catch {
    throw new InvalidArgumentError('must be a port from 0 to 65535, or off.');
  }
};

/** `--redis`: a redis:// or rediss:// URL. */
const redisUrl = (value: string): string => {
  const trimmed = value.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(trimmed);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^rediss?:$/.test(parsed.protocol) || !parsed.hostname) {
    throw new InvalidArgumentError('must be a Redis URL such as redis://127.0.0.1:6379 (rediss:// for TLS).');
  }
  return trimmed;
};

const originPolicy = (value: string): OriginPolicy => {
  try {
    return parseOriginPolicy(value);
  } catch (error) {
    if (!(error instanceof OriginListError)) throw error;
    throw new InvalidArgumentError(`${error.message}.`);
  }
};

/** The settings of collab-server, in the order --help lists them. */
export const SERVER_SETTINGS: readonly SettingSpec[] = [
  {
    flags: '--host <address>',
    env: 'COLLAB_HOST',
    description: 'address to listen on; :: listens on IPv6 and IPv4 at once',
    default: '::',
  },
  { flags: '--port <n>', env: 'COLLAB_PORT', description: 'TCP port (0: any free port)', default: 8080, parse: port },
  {
    flags: '--ws-port <n>',
    env: 'COLLAB_WS_PORT',
    description: 'web port: the web editor at /NAME and the WebSocket endpoint for Yjs clients (0: any free port; off: none)',
    default: 8090,
    parse: wsPort,
  },
  {
    flags: '--allow-origin <origins>',
    env: 'COLLAB_ALLOW_ORIGIN',
    description: 'web pages from these origins (comma-separated, e.g. https://example.org; *: any) may open a WebSocket too',
    defaultDescription: "only this server's own pages",
    parse: originPolicy,
  },
  {
    flags: '--data-dir <path>',
    env: 'COLLAB_DATA_DIR',
    description: 'directory holding NAME.txt and the update logs (created if missing, when its parent exists)',
    default: '.',
    defaultDescription: 'the working directory',
  },
  {
    flags: '--watch-files <on|off>',
    env: 'COLLAB_WATCH_FILES',
    description:
      'merge an outside edit of NAME.txt (any editor, sed -i, cp) into the document while it is open; off: only edits made while the document was closed are merged, at its next load',
    default: true,
    defaultDescription: 'on',
    parse: onOff,
  },
  {
    flags: '--max-clients <n>',
    env: 'COLLAB_MAX_CLIENTS',
    description: 'clients connected at once; one more gets "server full"',
    core: 'maxClients',
  },
  {
    flags: '--max-frame <bytes>',
    env: 'COLLAB_MAX_FRAME',
    description: 'largest frame accepted; a larger one is refused with ERROR 4',
    core: 'maxFrameBytes',
  },
  {
    flags: '--idle-timeout <seconds>',
    env: 'COLLAB_IDLE_TIMEOUT',
    description: 'close a client silent this long (clients ping every 15 s; 0: never)',
    core: 'idleTimeoutMs',
    seconds: true,
  },
  {
    flags: '--handshake-timeout <seconds>',
    env: 'COLLAB_HANDSHAKE_TIMEOUT',
    description: 'close a connection that has not said HELLO within this long',
    core: 'handshakeTimeoutMs',
    seconds: true,
  },
  {
    flags: '--max-connections-per-address <n>',
    env: 'COLLAB_MAX_CONNECTIONS_PER_ADDRESS',
    description: 'connections one remote address may hold at once (0: no limit)',
    core: 'maxConnectionsPerAddress',
  },
  {
    flags: '--max-pending-handshakes <n>',
    env: 'COLLAB_MAX_PENDING_HANDSHAKES',
    description: 'connections that may wait for their HELLO at once; past it the oldest is closed',
    core: 'maxPendingHandshakes',
  },
  {
    flags: '--max-documents <n>',
    env: 'COLLAB_MAX_DOCUMENTS',
    description: 'documents open at once; a client asking for one more is told the server is full',
    core: 'maxDocuments',
  },
  {
    flags: '--unload-after <seconds>',
    env: 'COLLAB_UNLOAD_AFTER',
    description: 'unload a document this long after its last client leaves (it then no longer counts against --max-documents)',
    core: 'unloadAfterMs',
    seconds: true,
  },
  {
    flags: '--max-edits-per-second <n>',
    env: 'COLLAB_MAX_EDITS_PER_SECOND',
    description: 'edits a second per client; past it the server reads from that client more slowly',
    core: 'maxEditsPerSecond',
  },
  {
    flags: '--max-bytes-per-second <n>',
    env: 'COLLAB_MAX_BYTES_PER_SECOND',
    description: 'bytes a second per client; past it the server reads from that client more slowly',
    core: 'maxBytesPerSecond',
  },
  {
    flags: '--max-document-chars <n>',
    env: 'COLLAB_MAX_DOCUMENT_CHARS',
    description: 'longest document in characters; an edit past it is refused (ERROR 10)',
    core: 'maxDocumentChars',
  },
  {
    flags: '--max-line-bytes <n>',
    env: 'COLLAB_MAX_LINE_BYTES',
    description: 'longest line a plain-text client (nc, telnet) may send; a longer one is refused with a line of error, not added',
    core: 'maxLineBytes',
  },
  {
    flags: '--max-document-items <n>',
    env: 'COLLAB_MAX_DOCUMENT_ITEMS',
    description:
      'most separate pieces of text (Yjs items, deleted ones too) in a document, about 0.6 KiB of memory each; an edit past it is refused (ERROR 10)',
    core: 'maxDocumentItems',
  },
  {
    flags: '--max-presence-bytes <n>',
    env: 'COLLAB_MAX_PRESENCE_BYTES',
    description: 'largest presence state (name, colour, cursor) of one client, as JSON; a larger one is refused (ERROR 3)',
    core: 'maxPresenceBytes',
  },
  {
    flags: '--redis <url>',
    env: 'COLLAB_REDIS_URL',
    description:
      'share documents with every other collab-server on this Redis (redis://HOST:PORT, rediss:// for TLS): edits go through a Redis stream per document, an edit is ACKed once Redis has it on its disk (appendonly yes, appendfsync always), and one instance at a time writes each document into --data-dir',
    parse: redisUrl,
  },
  {
    flags: '--redis-allow-unsafe [on|off]',
    env: 'COLLAB_REDIS_ALLOW_UNSAFE',
    description: 'start with --redis even when Redis does not keep acknowledged writes on its disk (a [WARN] says what may be lost)',
    default: false,
    defaultDescription: 'off: refuse to start',
    parse: onOff,
  },
  {
    flags: '--redis-lease <seconds>',
    env: 'COLLAB_REDIS_LEASE',
    description:
      "with --redis: how long a document's lease lasts unrenewed (another instance takes over the files of one that died after this long)",
    default: 5,
    parse: secondsIn(0.3, 600),
  },
  {
    flags: '--redis-trim-entries <n>',
    env: 'COLLAB_REDIS_TRIM_ENTRIES',
    description: "with --redis: updates written into the data directory between two trims of a document's Redis stream",
    default: 1000,
    parse: integerIn(1, 10_000_000),
  },
  { flags: '--token <secret>', env: 'COLLAB_TOKEN', description: 'shared token clients must send (none by default)', core: 'token' },
  {
    flags: '--tls-cert <file>',
    env: 'COLLAB_TLS_CERT',
    description: 'PEM certificate (chain): clients must connect with TLS (with --tls-key)',
  },
  { flags: '--tls-key <file>', env: 'COLLAB_TLS_KEY', description: 'PEM private key of --tls-cert' },
  { flags: '--log-level <level>', env: 'LOG_LEVEL', description: 'error, warn, info, update or debug', default: 'info', parse: logLevel },
];

/** The option's attribute name as commander stores it (`--max-clients` → `maxClients`). */
function attributeOf(spec: SettingSpec): string {
  return new Option(spec.flags).attributeName();
}

function optionFor(spec: SettingSpec): Option {
  const option = new Option(spec.flags, spec.description).env(spec.env);
  if (spec.core === 'token') return option;
  if (spec.core) {
    const rule = CORE_SETTING_RULES[spec.core];
    const value = DEFAULT_CORE_SETTINGS[spec.core];
    if (spec.seconds) return option.default(value / 1000).argParser(secondsIn(rule.min / 1000, rule.max / 1000));
    return option.default(value).argParser(integerIn(rule.min, Math.min(rule.max, Number.MAX_SAFE_INTEGER)));
  }
  if (spec.default !== undefined) option.default(spec.default, spec.defaultDescription);
  if (spec.parse) option.argParser(spec.parse);
  return option;
}

/** The collab-server command line; every flag also reads its environment variable. */
export function buildProgram(): Command {
  const program = new Command('collab-server')
    .description(
      'Collaborative plain-text editing server: hosts shared documents, relays every edit, stores it durably before acknowledging it.',
    )
    .version(VERSION, '-V, --version');
  for (const spec of SERVER_SETTINGS) program.addOption(optionFor(spec));
  program.addHelpText(
    'after',
    '\nEvery flag also reads the environment variable named in brackets (for PM2).\n' +
      'Plain-text clients (nc, telnet) join on --port too: nc localhost 8080 shows the document and appends each line typed.\n' +
      '\nExamples:\n  collab-server --port 8080 --data-dir /var/lib/collab --max-clients 20 --token s3cret\n' +
      '  collab-server --tls-cert cert.pem --tls-key key.pem --token s3cret   # clients: --tls --ca ca.pem\n',
  );
  return configureProgram(program);
}

/** A setting that is wrong, said in one sentence naming its flag and environment variable. */
export class SettingError extends Error {
  readonly code = 'COLLAB_ERR_SETTING';
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/** The settings a parsed program holds, checked together; throws SettingError naming the flag and variable. */
export function readSettings(program: Command): ServerSettings {
  const values = program.opts<Record<string, unknown>>();
  const core: Partial<CoreSettings> = {};
  for (const spec of SERVER_SETTINGS) {
    if (!spec.core) continue;
    const value = values[attributeOf(spec)];
    if (value === undefined) continue;
    (core as Record<string, unknown>)[spec.core] = spec.seconds ? Math.round((value as number) * 1000) : value;
  }
  if (Boolean(values.tlsCert) !== Boolean(values.tlsKey))
    throw new SettingError('--tls-cert and --tls-key go together: give both or neither');
  if (values.wsPort !== false && values.wsPort === values.port && values.port !== 0)
    throw new SettingError(`--ws-port (COLLAB_WS_PORT) must differ from --port (COLLAB_PORT): both are ${String(values.port)}`);
  if (values.redisAllowUnsafe && !values.redis)
    throw new SettingError('--redis-allow-unsafe (COLLAB_REDIS_ALLOW_UNSAFE) only means something with --redis');
  let resolved: CoreSettings;
  try {
    resolved = resolveCoreSettings({ ...core, serverName: `collab-server ${VERSION}` });
  } catch (error) {
    if (!(error instanceof InvalidSettingError)) throw error;
    const spec = SERVER_SETTINGS.find((s) => s.core === error.setting);
    throw new SettingError(spec ? `${spec.flags.split(' ')[0]} (${spec.env}): ${error.message}` : error.message);
  }
  return {
    host: values.host as string,
    port: values.port as number,
    dataDir: values.dataDir as string,
    watchFiles: values.watchFiles as boolean,
    tlsCert: values.tlsCert as string | undefined,
    tlsKey: values.tlsKey as string | undefined,
    wsPort: values.wsPort === false ? undefined : (values.wsPort as number),
    origins: (values.allowOrigin as OriginPolicy | undefined) ?? SAME_ORIGIN,
    logLevel: values.logLevel as string,
    redis: values.redis
      ? {
          url: values.redis as string,
          allowUnsafe: values.redisAllowUnsafe === true,
          leaseMs: Math.round((values.redisLease as number) * 1000),
          trimEntries: values.redisTrimEntries as number,
        }
      : undefined,
    core: resolved,
  };
}
