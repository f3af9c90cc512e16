import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { connectHappyEyeballs, connectTls, formatEndpoint, type TlsClientOptions } from '@collab/address';
import { ErrorCode, ReconnectingClient, validateDocumentName } from '@collab/collab-protocol';
import { ExitCode, UserFacingError } from '@collab/cli';

/** The assignment's words when the server is not there at start. */
export const CONNECTION_FAILED = 'Connection failed. Please check the server and try again';

/** What a client without a token hears from a server that needs one (ERROR 2). */
export const NEEDS_TOKEN = 'The server needs a token: pass --token or set COLLAB_TOKEN.';

/** Where to connect and as whom. */
export interface ClientSettings {
  host: string;
  port: number;
  document: string;
  name: string;
  token?: string;
  /** How long one connection attempt may take. */
  connectTimeoutMs: number;
  /** Connect with TLS, verifying the server's certificate (including its TLS handshake in connectTimeoutMs). */
  tls?: TlsClientOptions;
}

/** A client synced with the server, ready for any mode. */
export interface OpenClient {
  client: ReconnectingClient;
  doc: Y.Doc;
  awareness: Awareness;
  /** The server as the user named it, `host:port`, for the status line. */
  server: string;
  /** Disconnects and releases everything; idempotent. */
  close(): void;
}

/** Why the first connection failed, as exit code and words. */
export class ConnectFailedError extends UserFacingError {
  constructor(readonly detail: string) {
    super(`${CONNECTION_FAILED}\n  (${detail})`, ExitCode.Usage);
    this.name = 'ConnectFailedError';
  }
}

/**
 * Connects (Happy Eyeballs over every address of the host), says HELLO and syncs. A server
 * that cannot be reached is ConnectFailedError (exit 2); a server that refuses (full, bad
 * token...) is a UserFacingError with its reason (exit 1). Later losses are retried by the
 * ReconnectingClient with backoff.
 */
export async function connectClient(settings: ClientSettings): Promise<OpenClient> {
  try {
    validateDocumentName(settings.document);
  } catch (error) {
    throw new UserFacingError((error as Error).message, ExitCode.Usage);
  }
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  const client = new ReconnectingClient({
    document: settings.document,
    clientName: settings.name,
    token: settings.token,
    doc,
    awareness,
    connect: async () => {
      const target = { host: settings.host, port: settings.port, timeoutMs: settings.connectTimeoutMs };
      const { socket } = settings.tls ? await connectTls({ ...target, tls: settings.tls }) : await connectHappyEyeballs(target);
      return socket;
    },
  });
  const close = () => {
    client.stop('closed');
    awareness.destroy();
  };
  try {
    await client.start();
  } catch (error) {
    close();
    const e = error as Error & { code?: string; errorCode?: number };
    if (e.code === 'COLLAB_ERR_REFUSED') {
      // "Refused the token" would puzzle someone who never gave one.
      const noToken = e.errorCode === ErrorCode.AuthFailed && !settings.token;
      throw new UserFacingError(noToken ? NEEDS_TOKEN : e.message, ExitCode.Failure);
    }
    // Not "check the server": the server answered, but could not prove who it is.
    if (e.code === 'COLLAB_ERR_TLS_UNTRUSTED') throw new UserFacingError(e.message, ExitCode.Usage);
    throw new ConnectFailedError(e.message);
  }
  return { client, doc, awareness, server: formatEndpointOrName(settings.host, settings.port), close };
}

function formatEndpointOrName(host: string, port: number): string {
  return host.includes(':') ? formatEndpoint(host, port) : `${host}:${port}`;
}
