// Every limit of the collab core, with its default, in one place. The server's command line
// takes its defaults from here; resolveCoreSettings checks every value, whoever supplies it.

import { InvalidSettingError } from './errors';

/** Limits and identity of a CollabCore; limits carry their units in the name. */
export interface CoreSettings {
  /** Name and version sent in WELCOME, e.g. `collab-server 0.2.0`. */
  serverName: string;
  /** Clients (connections that said HELLO) at once; one more gets ERROR 1. */
  maxClients: number;
  /** Largest message accepted from a client, and largest the server sends (larger states go out in parts). */
  maxFrameBytes: number;
  /** Largest message accepted before HELLO (a HELLO is a few hundred bytes). */
  maxHelloBytes: number;
  /** A connection must say HELLO within this long. */
  handshakeTimeoutMs: number;
  /** A client silent this long is closed with ERROR 8; 0 never. */
  idleTimeoutMs: number;
  /** Connections allowed to wait for their HELLO at once; past it the oldest is closed. */
  maxPendingHandshakes: number;
  /** Connections one remote address may hold at once; 0 for no limit. */
  maxConnectionsPerAddress: number;
  /** Documents loaded at once; a HELLO for one more gets ERROR 1. */
  maxDocuments: number;
  /** Document-changing messages a second per client before reading from it slows down. */
  maxEditsPerSecond: number;
  /** Bytes a second per client before reading from it slows down. */
  maxBytesPerSecond: number;
  /** Longest document in characters; an edit past it gets ERROR 10. */
  maxDocumentChars: number;
  /** Longest line a plain-text client may send, in bytes without its line break; a longer one is refused (not added). */
  maxLineBytes: number;
  /**
   * Most items a document may hold (Yjs's pieces of text: a run typed in one go is one, each
   * deleted run stays one); an edit adding more gets ERROR 10. Each costs the server about 0.6 KiB
   * however short its text, so this, not maxDocumentChars, bounds a document typed one character
   * at a time.
   */
  maxDocumentItems: number;
  /**
   * Under load, relayed updates of a document go out together at most this often (one write per
   * client per interval instead of one per edit). Default 0: at the end of every turn of the
   * event loop, which merges what arrived in that turn. Measured (npm run bench collab): 2 ms
   * saved no CPU at 10 clients x 2,000 edits/s or 100 x 1,000 and made the three-person trace
   * replay, a chain of round trips, 1.3-1.5x slower.
   */
  relayIntervalMs: number;
  /** Largest presence (awareness) state of one client, as JSON bytes. */
  maxPresenceBytes: number;
  /** Deepest nesting of arrays and objects in a presence state. */
  maxPresenceDepth: number;
  /** Presence ids one connection may introduce (a client has one; a few spare for reconnects). */
  maxPresenceIdsPerClient: number;
  /** Wrong tokens one address may send before it must wait (which doubles with each further one, up to authBackoffMaxMs). */
  authFailuresAllowed: number;
  /** Longest wait imposed on an address that keeps sending wrong tokens. */
  authBackoffMaxMs: number;
  /** How long a document stays loaded after its last client leaves. */
  unloadAfterMs: number;
  /** Shared secret clients must present; '' for none. */
  token: string;
}

/** The defaults: what `collab-server` uses when no flag or environment variable says otherwise. */
export const DEFAULT_CORE_SETTINGS: Readonly<CoreSettings> = Object.freeze({
  serverName: 'collab-server',
  maxClients: 10,
  maxFrameBytes: 16 * 1024 * 1024,
  maxHelloBytes: 4096,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxPendingHandshakes: 1024,
  maxConnectionsPerAddress: 64,
  maxDocuments: 1000,
  maxEditsPerSecond: 1000,
  maxBytesPerSecond: 8 * 1024 * 1024,
  maxDocumentChars: 16 * 1024 * 1024,
  maxLineBytes: 64 * 1024,
  maxDocumentItems: 512 * 1024,
  relayIntervalMs: 0,
  maxPresenceBytes: 16 * 1024,
  maxPresenceDepth: 16,
  maxPresenceIdsPerClient: 4,
  authFailuresAllowed: 5,
  authBackoffMaxMs: 60_000,
  unloadAfterMs: 60_000,
  token: '',
});

/** What a setting must be: a whole number in [min, max]. */
interface IntegerRule {
  min: number;
  max: number;
  unit: string;
}

/** The range of every numeric setting, for resolveCoreSettings and for command lines that want the same bounds. */
export const CORE_SETTING_RULES: Readonly<Record<Exclude<keyof CoreSettings, 'serverName' | 'token'>, IntegerRule>> = Object.freeze({
  maxClients: { min: 1, max: 1_000_000, unit: 'clients' },
  // Below 1 KiB not even a state vector fits; past 1 GiB one message would hold a process's memory.
  maxFrameBytes: { min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes' },
  maxHelloBytes: { min: 64, max: 1024 * 1024, unit: 'bytes' },
  handshakeTimeoutMs: { min: 1, max: 3_600_000, unit: 'milliseconds' },
  idleTimeoutMs: { min: 0, max: 86_400_000, unit: 'milliseconds' },
  maxPendingHandshakes: { min: 1, max: 1_000_000, unit: 'connections' },
  maxConnectionsPerAddress: { min: 0, max: 1_000_000, unit: 'connections' },
  maxDocuments: { min: 1, max: 1_000_000, unit: 'documents' },
  maxEditsPerSecond: { min: 1, max: 1_000_000_000, unit: 'edits a second' },
  maxBytesPerSecond: { min: 1024, max: 1024 * 1024 * 1024 * 1024, unit: 'bytes a second' },
  maxDocumentChars: { min: 1, max: 1024 * 1024 * 1024, unit: 'characters' },
  // A line must hold at least `AUTH ` and a token; past 16 MiB one line would hold a process's memory.
  maxLineBytes: { min: 64, max: 16 * 1024 * 1024, unit: 'bytes' },
  maxDocumentItems: { min: 1, max: 1024 * 1024 * 1024, unit: 'items' },
  relayIntervalMs: { min: 0, max: 1000, unit: 'milliseconds' },
  maxPresenceBytes: { min: 256, max: 1024 * 1024, unit: 'bytes' },
  maxPresenceDepth: { min: 2, max: 1000, unit: 'levels' },
  maxPresenceIdsPerClient: { min: 1, max: 1000, unit: 'ids' },
  authFailuresAllowed: { min: 0, max: 1_000_000, unit: 'attempts' },
  authBackoffMaxMs: { min: 0, max: 86_400_000, unit: 'milliseconds' },
  unloadAfterMs: { min: 0, max: 86_400_000, unit: 'milliseconds' },
});

/** Fills in the defaults and checks every value; throws InvalidSettingError (one sentence naming the setting) when one is wrong. */
export function resolveCoreSettings(given: Partial<CoreSettings> = {}): CoreSettings {
  const settings: CoreSettings = { ...DEFAULT_CORE_SETTINGS };
  for (const [key, value] of Object.entries(given) as [keyof CoreSettings, unknown][]) {
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  // A HELLO is a few hundred bytes: with frames smaller than the default, the frame is the limit.
  if (given.maxHelloBytes === undefined && typeof settings.maxFrameBytes === 'number' && settings.maxFrameBytes < settings.maxHelloBytes) {
    settings.maxHelloBytes = settings.maxFrameBytes;
  }
  for (const [key, rule] of Object.entries(CORE_SETTING_RULES) as [keyof typeof CORE_SETTING_RULES, IntegerRule][]) {
    const value = settings[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > rule.max) {
      throw new InvalidSettingError(
        key,
        `${key} must be a whole number of ${rule.unit} from ${rule.min} to ${rule.max} (got ${String(value)})`,
      );
    }
  }
  if (typeof settings.serverName !== 'string' || settings.serverName === '')
    throw new InvalidSettingError('serverName', 'serverName must be a non-empty string');
  if (typeof settings.token !== 'string') throw new InvalidSettingError('token', 'token must be a string (empty for none)');
  if (settings.maxHelloBytes > settings.maxFrameBytes) {
    throw new InvalidSettingError(
      'maxHelloBytes',
      `maxHelloBytes (${settings.maxHelloBytes}) must not be larger than maxFrameBytes (${settings.maxFrameBytes})`,
    );
  }
  return settings;
}
