import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '@collab/cli';
import { ConnectionClosedError, readReply, type EchoConnection } from './connection';
import { ms, summarise, type RttSummary } from './rtt-stats';

/** Settings of ping mode. */
export interface PingSettings {
  count: number;
  sizeBytes: number;
  intervalMs: number;
  timeoutMs: number;
  json: boolean;
  output: NodeJS.WritableStream;
}

/** One request's fate. */
export interface PingReply {
  seq: number;
  rttMs: number | null;
}

/** The smallest payload that still carries a sequence number. */
export const MIN_PING_BYTES = 4;

/** A payload of `size` bytes: the sequence number, then a pattern derived from it. */
export function pingPayload(seq: number, size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  payload.writeUInt32BE(seq >>> 0, 0);
  for (let i = 4; i < size; i++) payload[i] = (seq + i) & 0xff;
  return payload;
}

/**
 * Sends `count` payloads one at a time and times each echo. All payloads have the same size,
 * so the stream stays aligned on reply boundaries even after a timeout: a late reply is
 * recognised by its sequence number and skipped. Returns the exit code (1 when any reply
 * was lost or wrong, as ping does). When the connection breaks, the statistics of the
 * requests sent so far are printed and its ConnectionClosedError is thrown (one line, exit 1).
 */
export async function runPingMode(connection: EchoConnection, settings: PingSettings): Promise<number> {
  const { output, sizeBytes } = settings;
  const replies: PingReply[] = [];
  let corrupted = 0;
  if (!settings.json) output.write(`ECHO ${connection.endpoint}: ${sizeBytes} data bytes\n`);
  const started = performance.now();
  let failure: ConnectionClosedError | undefined;

  for (let seq = 1; seq <= settings.count; seq++) {
    // Gone during the wait: nothing more can be sent, and what was sent is accounted for.
    failure ??= connection.failure;
    if (failure) break;
    const payload = pingPayload(seq, sizeBytes);
    const sentAt = performance.now();
    connection.socket.write(payload);
    let rttMs: number | null = null;
    for (;;) {
      const remaining = settings.timeoutMs - (performance.now() - sentAt);
      let reply: Buffer | undefined;
      try {
        reply = remaining > 0 ? await readReply(connection, sizeBytes, remaining) : undefined;
      } catch (error) {
        if (!(error instanceof ConnectionClosedError)) throw error;
        failure = error; // this request is lost; the statistics so far still get printed
      }
      if (!reply) break;
      const replySeq = reply.readUInt32BE(0);
      if (replySeq < seq) continue; // a reply we had given up on
      if (replySeq === seq && reply.equals(payload)) rttMs = performance.now() - sentAt;
      else corrupted++;
      break;
    }
    replies.push({ seq, rttMs });
    if (!settings.json && !failure) {
      output.write(
        rttMs === null
          ? `Request timeout for seq=${seq}\n`
          : `${sizeBytes} bytes from ${connection.endpoint}: seq=${seq} time=${ms(rttMs)} ms\n`,
      );
    }
    if (failure) break;
    const wait = settings.intervalMs - (performance.now() - sentAt);
    // A lost connection ends the wait at once.
    if (seq < settings.count && wait > 0) await sleep(wait, undefined, { signal: connection.lost }).catch(() => undefined);
  }

  const elapsedMs = performance.now() - started;
  const summary = summarise(
    replies.length,
    replies.flatMap((r) => (r.rttMs === null ? [] : [r.rttMs])),
  );
  output.write(
    settings.json
      ? `${JSON.stringify({ ...pingJson(connection.endpoint, sizeBytes, summary, elapsedMs, corrupted, replies), ...(failure && { error: failure.message }) })}\n`
      : pingText(connection.endpoint, summary, elapsedMs, corrupted),
  );
  if (failure) throw failure;
  return summary.received === summary.sent && corrupted === 0 ? ExitCode.Ok : ExitCode.Failure;
}

function pingText(endpoint: string, s: RttSummary, elapsedMs: number, corrupted: number): string {
  const loss = `${Number(s.lossPercent.toFixed(1))}% loss`;
  const bad = corrupted ? `, ${corrupted} corrupted` : '';
  return (
    `\n--- ${endpoint} echo statistics ---\n` +
    `${s.sent} sent, ${s.received} received, ${loss}${bad}, time ${Math.round(elapsedMs)} ms\n` +
    (s.received ? `rtt min/avg/max/p50/p99 = ${ms(s.minMs)}/${ms(s.avgMs)}/${ms(s.maxMs)}/${ms(s.p50Ms)}/${ms(s.p99Ms)} ms\n` : '')
  );
}

function pingJson(endpoint: string, sizeBytes: number, s: RttSummary, elapsedMs: number, corrupted: number, replies: PingReply[]) {
  const round = (v: number) => (Number.isNaN(v) ? null : Number(v.toFixed(3)));
  return {
    mode: 'ping',
    server: endpoint,
    sizeBytes,
    sent: s.sent,
    received: s.received,
    corrupted,
    lossPercent: Number(s.lossPercent.toFixed(3)),
    elapsedMs: Math.round(elapsedMs),
    rttMs: { min: round(s.minMs), avg: round(s.avgMs), max: round(s.maxMs), p50: round(s.p50Ms), p99: round(s.p99Ms) },
    replies: replies.map((r) => ({ seq: r.seq, rttMs: r.rttMs === null ? null : round(r.rttMs) })),
  };
}
