// The status line: where we are connected, whether our edits are stored, who else is here,
// and a one-off message (the unsaved-quit warning, hints). Pure: the caller passes the clock.
import type { ConnectionState } from '@collab/collab-protocol';
import { colorSgr, renderSpans, textWidth, type Span } from './screen-renderer';
import type { Peer } from './remote-cursors';

/** What the status line reports. */
export interface StatusInfo {
  readonly server: string;
  readonly document: string;
  readonly state: ConnectionState;
  /** When the pending reconnect attempt is due (ms since the epoch), while reconnecting. */
  readonly reconnectAt?: number;
  readonly now: number;
  /** Every local edit ACKed by the server. */
  readonly saved: boolean;
  readonly peers: readonly Peer[];
  readonly message?: string;
}

const BASE = '7'; // reverse video: the status line stands apart from the text on any theme

/** The connection state in words, with a countdown while waiting to reconnect. */
export function describeState(state: ConnectionState, reconnectAt: number | undefined, now: number): string {
  switch (state.kind) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'reconnecting': {
      const seconds = Math.max(0, Math.ceil(((reconnectAt ?? now + state.inMs) - now) / 1000));
      return `reconnecting in ${seconds}s`;
    }
    case 'stopped':
      return `disconnected: ${state.reason}`;
  }
}

/**
 * The status line as a styled string exactly `columns` cells wide. On a narrow terminal the
 * server, then the document name, are left out before the state and saved flag are cut.
 */
export function renderStatusLine(info: StatusInfo, columns: number): string {
  const state = describeState(info.state, info.reconnectAt, info.now);
  const tail: Span[] = [
    { text: state, sgr: info.state.kind === 'connected' ? '' : '1' },
    { text: ' · ' },
    { text: info.saved ? 'saved' : 'unsaved', sgr: info.saved ? '' : '1' },
  ];
  if (info.peers.length) {
    tail.push({ text: ' · with' });
    for (const p of info.peers) {
      tail.push({ text: ' ' });
      // 27: not reversed, so the chip shows the peer's colour as on their cursor.
      tail.push({ text: ` ${p.name} `, sgr: `27;${colorSgr(p.color)}` });
    }
  }
  const right: Span[] = info.message ? [{ text: ` ${info.message} `, sgr: '1' }] : [];
  const room = columns - spansWidth(right);
  const variants = [` ${info.server} · ${info.document} · `, ` ${info.document} · `, ' '];
  const head = variants.find((v) => spansWidth([{ text: v }, ...tail]) <= room) ?? ' ';
  return renderSpans([{ text: head }, ...tail], columns, BASE, right);
}

function spansWidth(spans: readonly Span[]): number {
  return spans.reduce((w, s) => w + textWidth(s.text), 0);
}

/** The help line, dimmed, cut to the width. */
export function renderHelpLine(text: string, columns: number): string {
  return renderSpans([{ text }], columns, '2');
}
