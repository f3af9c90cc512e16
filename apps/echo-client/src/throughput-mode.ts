import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { ExitCode } from '@collab/cli';
import type { EchoConnection } from './connection';

/** Settings of throughput mode. */
export interface ThroughputSettings {
  durationMs: number;
  chunkBytes: number;
  /** How long to wait for the last echoes after sending stops. */
  drainTimeoutMs: number;
  json: boolean;
  output: NodeJS.WritableStream;
  /** Where the live progress line goes; undefined when not a terminal. */
  progress: NodeJS.WriteStream | undefined;
}

/** What a throughput run measured. */
export interface ThroughputResult {
  sentBytes: number;
  receivedBytes: number;
  mismatchedBytes: number;
  sendSeconds: number;
  totalSeconds: number;
}

const MB = 1_000_000;

/**
 * Streams one random chunk over and over for the duration while reading the echo back,
 * checks every byte that returns against what was sent, then half-closes and waits for
 * the rest. Exit code 1 when bytes were lost or differ. When the connection breaks, the
 * figures so far are printed and its ConnectionClosedError is thrown (one line, exit 1).
 */
export async function runThroughputMode(connection: EchoConnection, settings: ThroughputSettings): Promise<number> {
  const { socket } = connection;
  const pattern = randomBytes(settings.chunkBytes);
  let sentBytes = 0;
  let receivedBytes = 0;
  let mismatchedBytes = 0;

  // Reads come straight off the socket, not through the reply queue: nothing is kept.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      const at = (receivedBytes + offset) % pattern.length;
      const n = Math.min(chunk.length - offset, pattern.length - at);
      if (chunk.compare(pattern, at, at + n, offset, offset + n) !== 0) {
        for (let i = 0; i < n; i++) if (chunk[offset + i] !== pattern[at + i]) mismatchedBytes++;
      }
      offset += n;
    }
    receivedBytes += chunk.length;
  });
  const started = performance.now();
  const deadline = started + settings.durationMs;
  const drawProgress = () => {
    const seconds = (performance.now() - started) / 1000;
    settings.progress?.write(
      `\r${seconds.toFixed(1).padStart(6)} s   sent ${rate(sentBytes, seconds)}   received ${rate(receivedBytes, seconds)}   `,
    );
  };
  const ticker = settings.progress ? setInterval(drawProgress, 250) : undefined;

  try {
    while (performance.now() < deadline && !connection.failure) {
      sentBytes += pattern.length;
      if (!socket.write(pattern)) {
        // Rejected by the socket's error or the connection's loss alike: connection.failure says which.
        const drained = await once(socket, 'drain', { signal: connection.lost }).then(
          () => true,
          () => false,
        );
        if (!drained) break;
      }
    }
    const sendSeconds = (performance.now() - started) / 1000;
    // The server went away while we were still sending: the figures so far, then why.
    const brokeWhileSending = connection.failure;
    if (!brokeWhileSending) {
      socket.end();
      // The server's end after ours (or a break), or give up on the rest after drainTimeoutMs.
      if (!connection.lost.aborted) {
        await once(connection.lost, 'abort', { signal: AbortSignal.timeout(settings.drainTimeoutMs) }).catch(() => undefined);
      }
    }
    const totalSeconds = (performance.now() - started) / 1000;
    if (ticker) {
      clearInterval(ticker);
      settings.progress?.write('\r\x1b[K');
    }
    const result: ThroughputResult = { sentBytes, receivedBytes, mismatchedBytes, sendSeconds, totalSeconds };
    const complete = receivedBytes === sentBytes && mismatchedBytes === 0;
    // After our end, the server's own end is the normal finish; only a broken connection is news.
    const failure = brokeWhileSending ?? (!complete && connection.failure?.cause !== undefined ? connection.failure : undefined);
    settings.output.write(
      settings.json
        ? `${JSON.stringify({ mode: 'throughput', server: connection.endpoint, ...jsonFigures(result), ...(failure && { error: failure.message }) })}\n`
        : report(connection.endpoint, result),
    );
    if (failure) throw failure;
    return complete ? ExitCode.Ok : ExitCode.Failure;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

function rate(bytes: number, seconds: number): string {
  return `${(bytes / MB / Math.max(seconds, 1e-9)).toFixed(1).padStart(8)} MB/s`;
}

function jsonFigures(r: ThroughputResult) {
  return {
    sentBytes: r.sentBytes,
    receivedBytes: r.receivedBytes,
    mismatchedBytes: r.mismatchedBytes,
    seconds: Number(r.totalSeconds.toFixed(3)),
    sentMBps: Number((r.sentBytes / MB / r.sendSeconds).toFixed(2)),
    receivedMBps: Number((r.receivedBytes / MB / r.totalSeconds).toFixed(2)),
  };
}

function report(endpoint: string, r: ThroughputResult): string {
  const f = jsonFigures(r);
  const lost = r.sentBytes - r.receivedBytes;
  const verdict =
    lost === 0 && r.mismatchedBytes === 0
      ? 'every byte came back as it was sent'
      : `${lost} bytes did not come back, ${r.mismatchedBytes} bytes came back different`;
  return (
    `--- ${endpoint} throughput, ${r.totalSeconds.toFixed(1)} s (MB = 10^6 bytes) ---\n` +
    `sent      ${(r.sentBytes / MB).toFixed(1).padStart(10)} MB  ${f.sentMBps.toFixed(1).padStart(9)} MB/s\n` +
    `received  ${(r.receivedBytes / MB).toFixed(1).padStart(10)} MB  ${f.receivedMBps.toFixed(1).padStart(9)} MB/s\n` +
    `${verdict}\n`
  );
}
