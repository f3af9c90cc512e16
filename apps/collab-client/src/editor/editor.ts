// The editor controller: applies keys to the shared Y.Text, keeps the local cursor and the
// top of the screen as Yjs relative positions (so other people's edits never move them off
// their text), publishes our cursor through awareness, and paints frames on a TerminalPort.
// The cursor sticks to the character on its LEFT (assoc -1): text someone else types right
// at an idle cursor lands after it, as it does for them, instead of dragging it along.
// It does no terminal I/O of its own (run-editor.ts wires the real one), so tests drive it
// with two in-memory documents and a fake terminal.
import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { ConnectionState } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/persistence';
import { DocumentLayout, LineLayoutCache } from './text-layout';
import { moveCursor, type CursorState } from './cursor-motion';
import { rowDistance, rowOf, rowStartIndex, scrollToShow, stepRows, type RowRef } from './viewport';
import { HELP_TEXT, KeyInput, type EditorAction, type Keypress } from './key-bindings';
import { colorForName, encodeCursor, peersOf, placeCursors } from './remote-cursors';
import { renderTextRows, ScreenPainter, type Frame } from './screen-renderer';
import { describeState, renderHelpLine, renderStatusLine, type StatusInfo } from './status-line';

/** Where frames go: the terminal's size and a way to write to it. */
export interface TerminalPort {
  readonly columns: number;
  readonly rows: number;
  write(data: string): void;
}

/** What the editor needs of the connection (a ReconnectingClient fits). */
export interface ConnectionSource {
  readonly state: ConnectionState;
  readonly isSaved: boolean;
  on(event: 'state' | 'saved', listener: (...args: any[]) => void): unknown;
  off(event: 'state' | 'saved', listener: (...args: any[]) => void): unknown;
}

/** Everything the controller is wired to. */
export interface EditorOptions {
  doc: Y.Doc;
  awareness: Awareness;
  connection: ConnectionSource;
  server: string;
  document: string;
  name: string;
  terminal: TerminalPort;
  /** Called once when the user quits. */
  onQuit: () => void;
  /** Defers a repaint; one per tick however many changes came in it. */
  schedule?: (paint: () => void) => void;
  now?: () => number;
}

/** The warning shown on the first Ctrl-Q while edits are not stored yet. */
export const UNSAVED_WARNING = 'Not saved yet! ^Q again to quit';

/** Where the cursor ends up after an undo or redo: at the end of the last text it put back, or where it removed text. */
export function cursorAfterDelta(delta: ReadonlyArray<{ insert?: unknown; retain?: number; delete?: number }>): number | undefined {
  let pos = 0;
  let cursor: number | undefined;
  for (const op of delta) {
    if (op.retain) pos += op.retain;
    else if (typeof op.insert === 'string') {
      pos += op.insert.length;
      cursor = pos;
    } else if (op.delete) cursor = pos;
  }
  return cursor;
}

/** A position that stays right after the character before `index` (at the start: stays at the start). */
export function stickyLeft(text: Y.Text, index: number): Y.RelativePosition {
  return Y.createRelativePositionFromTypeIndex(text, index, -1);
}

/** The full-screen editor's state and behaviour, independent of any real terminal. */
export class Editor {
  /** Origin of our own transactions: what the UndoManager tracks, so undo never touches others' edits. */
  readonly localOrigin = { editor: 'local' };
  readonly undoManager: Y.UndoManager;
  private readonly text: Y.Text;
  private readonly keys = new KeyInput();
  private readonly painter = new ScreenPainter();
  private readonly schedule: (paint: () => void) => void;
  private readonly now: () => number;
  private cache: LineLayoutCache;
  private layoutCache: DocumentLayout | undefined;
  private cursor: CursorState = { index: 0 };
  private cursorRel: Y.RelativePosition;
  private topRel: Y.RelativePosition;
  private message: string | undefined;
  private quitArmed = false;
  private reconnectAt: number | undefined;
  private countdown: NodeJS.Timeout | undefined;
  private paintQueued = false;
  private sentCursor = '';
  private statusKey = '';
  private statusLine = '';
  private helpLine: { columns: number; line: string } | undefined;
  private stopped = false;

  constructor(private readonly options: EditorOptions) {
    this.text = options.doc.getText(TEXT_NAME);
    this.undoManager = new Y.UndoManager(this.text, { trackedOrigins: new Set([this.localOrigin]) });
    this.schedule = options.schedule ?? ((paint) => setImmediate(paint));
    this.now = options.now ?? Date.now;
    this.cache = new LineLayoutCache(this.columns);
    this.cursorRel = stickyLeft(this.text, 0);
    this.topRel = Y.createRelativePositionFromTypeIndex(this.text, 0);
  }

  /** Announces us (name, colour, cursor), subscribes to changes and paints the first frame. */
  start(): void {
    const { awareness, connection, name } = this.options;
    awareness.setLocalState({ ...(awareness.getLocalState() ?? {}), user: { name, color: colorForName(name) } });
    this.publishCursor();
    this.text.observe(this.onTextChange);
    awareness.on('change', this.requestPaint);
    connection.on('state', this.onState);
    connection.on('saved', this.onSaved);
    this.onState(connection.state);
    this.paintNow();
  }

  /** Unsubscribes everything and withdraws our presence; idempotent. */
  destroy(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.countdown);
    this.text.unobserve(this.onTextChange);
    this.options.awareness.off('change', this.requestPaint);
    this.options.connection.off('state', this.onState);
    this.options.connection.off('saved', this.onSaved);
    this.undoManager.destroy();
    // Others see our cursor disappear now rather than after the awareness timeout.
    this.options.awareness.setLocalState(null);
  }

  /** The document offset of the local cursor. */
  get cursorIndex(): number {
    return this.cursor.index;
  }

  /** One keypress event from readline. */
  handleKey(str: string | undefined, key: Keypress): void {
    if (this.stopped) return;
    const action = this.keys.feed(str, key);
    if (action) this.apply(action);
  }

  /** Applies one action, as a key would. */
  apply(action: EditorAction): void {
    if (action.kind !== 'quit') {
      this.quitArmed = false;
      this.message = undefined;
    }
    switch (action.kind) {
      case 'insert':
        this.insert(action.text, action.paste === true);
        break;
      case 'backspace': {
        const layout = this.layout();
        const from = layout.prevBoundary(this.cursor.index);
        if (from < this.cursor.index) this.remove(from, this.cursor.index - from, from);
        break;
      }
      case 'delete': {
        const layout = this.layout();
        const to = layout.nextBoundary(this.cursor.index);
        if (to > this.cursor.index) this.remove(this.cursor.index, to - this.cursor.index, this.cursor.index);
        break;
      }
      case 'move': {
        const layout = this.layout();
        const page = Math.max(1, this.textHeight - 1);
        if (action.motion === 'page-up' || action.motion === 'page-down') {
          // The view moves by a page with the cursor, as in any pager.
          const top = this.currentTop(layout);
          const moved = stepRows(layout, top, action.motion === 'page-up' ? -page : page);
          this.topRel = Y.createRelativePositionFromTypeIndex(this.text, rowStartIndex(layout, moved));
        }
        this.setCursor(moveCursor(layout, this.cursor, action.motion, page));
        break;
      }
      case 'undo':
      case 'redo':
        this.undoManager.stopCapturing();
        if (action.kind === 'undo') this.undoManager.undo();
        else this.undoManager.redo();
        break;
      case 'quit':
        return this.quit();
      case 'redraw':
        this.painter.invalidate();
        break;
      case 'hint':
        this.message = action.text;
        break;
    }
    this.publishCursor();
    this.requestPaint();
  }

  /** The terminal changed size: re-wrap and repaint everything. */
  resize(): void {
    this.cache = new LineLayoutCache(this.columns);
    this.layoutCache = undefined;
    this.painter.invalidate();
    this.paintNow();
  }

  /** Builds the current frame (exposed for tests). */
  frame(): Frame {
    const layout = this.layout();
    const height = this.textHeight;
    const cursorRow = rowOf(layout, this.cursor.index);
    const top = scrollToShow(layout, this.currentTop(layout), cursorRow, height);
    this.topRel = Y.createRelativePositionFromTypeIndex(this.text, rowStartIndex(layout, top));
    const peers = peersOf(this.options.awareness.getStates() as Map<number, Record<string, unknown>>, this.options.doc.clientID, this.options.doc, this.text);
    const lines = renderTextRows(layout, top, height, placeCursors(layout, top, height, peers));
    const rows = this.options.terminal.rows;
    if (rows >= 2) {
      const info: StatusInfo = {
        server: this.options.server,
        document: this.options.document,
        state: this.options.connection.state,
        reconnectAt: this.reconnectAt,
        now: this.now(),
        saved: this.options.connection.isSaved,
        peers: peers.map(({ clientId, name, color }) => ({ clientId, name, color })),
        message: this.message,
      };
      // Rebuilt only when something on it changed, not on every keystroke.
      const key = JSON.stringify([info, describeState(info.state, info.reconnectAt, info.now), this.columns]).replace(/"now":\d+,/, '');
      if (key !== this.statusKey) {
        this.statusKey = key;
        this.statusLine = renderStatusLine(info, this.columns);
      }
      lines.push(this.statusLine);
    }
    if (rows >= 3) {
      if (this.helpLine?.columns !== this.columns) this.helpLine = { columns: this.columns, line: renderHelpLine(HELP_TEXT, this.columns) };
      lines.push(this.helpLine.line);
    }
    const at = layout.locate(this.cursor.index);
    return { lines, cursor: { x: Math.min(at.col, this.columns - 1), y: rowDistance(layout, top, { line: at.line, row: at.row }, height) } };
  }

  /** Paints at once rather than on the next tick. */
  paintNow(): void {
    this.paintQueued = false;
    if (this.stopped) return;
    const out = this.painter.paint(this.frame());
    if (out) this.options.terminal.write(out);
  }

  private get columns(): number {
    return Math.max(1, this.options.terminal.columns || 80);
  }

  private get textHeight(): number {
    const rows = this.options.terminal.rows || 24;
    return Math.max(1, rows >= 3 ? rows - 2 : rows - 1);
  }

  private layout(): DocumentLayout {
    this.layoutCache ??= new DocumentLayout(this.text.toString(), this.cache);
    return this.layoutCache;
  }

  private currentTop(layout: DocumentLayout): RowRef {
    return rowOf(layout, layout.snap(this.resolve(this.topRel) ?? 0));
  }

  /** The index a relative position points at now. */
  private resolve(rel: Y.RelativePosition): number | undefined {
    const abs = Y.createAbsolutePositionFromRelativePosition(rel, this.options.doc);
    return abs && abs.type === this.text ? abs.index : undefined;
  }

  private insert(text: string, paste: boolean): void {
    const at = this.cursor.index;
    // A paste is one undo step of its own, not merged with the typing around it.
    if (paste) this.undoManager.stopCapturing();
    this.options.doc.transact(() => this.text.insert(at, text), this.localOrigin);
    if (paste) this.undoManager.stopCapturing();
    this.setCursor({ index: at + text.length });
  }

  private remove(index: number, length: number, cursorAfter: number): void {
    this.options.doc.transact(() => this.text.delete(index, length), this.localOrigin);
    this.setCursor({ index: cursorAfter });
  }

  private setCursor(cursor: CursorState): void {
    this.cursor = cursor;
    this.cursorRel = stickyLeft(this.text, cursor.index);
  }

  /** Shares our cursor through awareness, only when its relative position changed (a redraw or an edit elsewhere does not). */
  private publishCursor(): void {
    const cursor = encodeCursor(this.text, this.cursor.index);
    const json = JSON.stringify(cursor.head);
    if (json === this.sentCursor) return;
    this.sentCursor = json;
    this.options.awareness.setLocalStateField('cursor', cursor);
  }

  private quit(): void {
    if (this.options.connection.isSaved || this.quitArmed) {
      this.options.onQuit();
      return;
    }
    this.quitArmed = true;
    this.message = UNSAVED_WARNING;
    this.requestPaint();
  }

  private readonly onTextChange = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    this.layoutCache = undefined;
    if (transaction.origin !== this.localOrigin) {
      const layout = this.layout();
      const undone = transaction.origin === this.undoManager ? cursorAfterDelta(event.delta as Array<{ insert?: unknown; retain?: number; delete?: number }>) : undefined;
      if (undone !== undefined) this.setCursor({ index: layout.snap(undone) });
      else {
        // Someone else's edit: the cursor stays on the character it was on.
        const index = this.resolve(this.cursorRel) ?? this.cursor.index;
        this.cursor = { index: layout.snap(index), goalCol: this.cursor.goalCol };
      }
    }
    this.requestPaint();
  };

  private readonly onState = (state: ConnectionState) => {
    clearInterval(this.countdown);
    this.countdown = undefined;
    this.reconnectAt = undefined;
    if (state.kind === 'reconnecting') {
      this.reconnectAt = this.now() + state.inMs;
      // The countdown ticks on the status line while we wait.
      this.countdown = setInterval(this.requestPaint, 1000);
    }
    this.requestPaint();
  };

  private readonly onSaved = () => this.requestPaint();

  private readonly requestPaint = () => {
    if (this.paintQueued || this.stopped) return;
    this.paintQueued = true;
    this.schedule(() => this.paintNow());
  };
}
