// The editor controller: applies keys to the shared Y.Text, keeps the local cursor, the
// selection's anchor and the top of the screen as Yjs relative positions (so other people's
// edits never move them off their text), publishes our cursor and selection through
// awareness, and paints frames on a TerminalPort: the text, or the help screen, and the status
// line, or the find prompt in its place.
// The cursor sticks to the character on its LEFT (assoc -1): text someone else types right
// at an idle cursor lands after it, as it does for them, instead of dragging it along.
// It does no terminal I/O of its own (run-editor.ts wires the real one), so tests drive it
// with two in-memory documents and a fake terminal.
import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { ConnectionState } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/collab-protocol';
import { DocumentLayout, LineLayoutCache } from './text-layout';
import { moveCursor, type CursorState, type Motion } from './cursor-motion';
import { rowDistance, rowOf, rowStartIndex, scrollToShow, stepRows, type RowRef } from './viewport';
import { KeyInput, type EditorAction, type Keypress } from './key-bindings';
import { HELP_LINE, helpScrollLimit, renderHelpScreen } from './help-screen';
import { findNext } from './text-search';
import { FindPrompt } from './find-prompt';
import { colorForName, encodeCursor, peersOf, placeCursors } from './remote-cursors';
import { renderTextRows, ScreenPainter, SELECTION_SGR, underlineSgr, type Frame, type Highlight } from './screen-renderer';
import { osc52 } from './terminal-clipboard';
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
  // EventEmitter's own signature: its listeners take any arguments.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  on(event: 'state' | 'saved', listener: (...args: any[]) => void): unknown;
  off(event: 'state' | 'saved', listener: (...args: any[]) => void): unknown;
  /* eslint-enable @typescript-eslint/no-explicit-any */
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

/** A stretch of the document, from <= to. */
interface Span {
  readonly from: number;
  readonly to: number;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** "3 lines" or "5 characters", for the status line. */
function amountOf(text: string): string {
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > 1) return `${lines} lines`;
  const chars = [...graphemes.segment(text)].length;
  return chars === 1 ? '1 character' : `${chars} characters`;
}

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
  /** Where the selection started (Shift and a movement); the selection runs from it to the cursor. */
  private anchor: { index: number; rel: Y.RelativePosition } | undefined;
  /** What ^C and ^X put away for ^V (also sent to the terminal's clipboard). */
  private clipboard = '';
  /** The find prompt, while it is open: keys go to it first. */
  private prompt: FindPrompt | undefined;
  /** How far the help screen is scrolled, while it is shown instead of the text. */
  private helpScroll: number | undefined;
  /** The last text searched for: ^F offers it again. */
  private lastQuery = '';
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

  /** The selected text ('' when nothing is selected). */
  get selectedText(): string {
    const span = this.selection();
    return span ? this.text.toString().slice(span.from, span.to) : '';
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
    if (this.helpScroll !== undefined && this.applyToHelp(action)) return this.requestPaint();
    if (this.prompt && this.applyToPrompt(action, this.prompt)) return this.requestPaint();
    switch (action.kind) {
      case 'insert':
        this.insert(action.text, action.paste === true);
        break;
      case 'backspace':
      case 'delete':
        if (this.selection()) {
          this.replace(this.selection()!, '');
          break;
        }
        this.deleteOne(action.kind);
        break;
      case 'move':
        this.move(action.motion, action.select === true);
        break;
      case 'copy':
      case 'cut':
        this.copy(action.kind === 'cut');
        break;
      case 'paste':
        if (this.clipboard === '') this.message = 'Nothing to paste: ^C copies, ^X cuts';
        else this.insert(this.clipboard, true);
        break;
      case 'select-all':
        this.setAnchor(0);
        this.setCursor({ index: this.text.length }, true);
        break;
      case 'escape':
        this.setAnchor(undefined);
        break;
      case 'undo':
      case 'redo':
        this.setAnchor(undefined);
        this.undoManager.stopCapturing();
        if (action.kind === 'undo') this.undoManager.undo();
        else this.undoManager.redo();
        break;
      case 'quit':
        return this.quit();
      case 'redraw':
        this.painter.invalidate();
        break;
      case 'find':
        this.prompt = new FindPrompt(this.lastQuery);
        break;
      case 'help':
        this.helpScroll = 0;
        break;
      case 'hint':
        this.message = action.text;
        break;
      case 'unknown':
        this.message = `${action.key} does nothing here · F1 or ^G: help`;
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
    const peers = peersOf(
      this.options.awareness.getStates() as Map<number, Record<string, unknown>>,
      this.options.doc.clientID,
      this.options.doc,
      this.text,
    );
    // Peers' selections underlined in their colour, ours in reverse video over them.
    const highlights: Highlight[] = peers.flatMap((p) =>
      p.anchor !== undefined && p.index !== undefined
        ? [{ from: Math.min(p.anchor, p.index), to: Math.max(p.anchor, p.index), sgr: underlineSgr(p.color) }]
        : [],
    );
    const own = this.selection();
    if (own) highlights.push({ ...own, sgr: SELECTION_SGR });
    const lines =
      this.helpScroll !== undefined
        ? renderHelpScreen(this.columns, height, this.helpScroll)
        : renderTextRows(layout, top, height, placeCursors(layout, top, height, peers), highlights);
    const rows = this.options.terminal.rows;
    if (rows >= 2 && this.prompt) {
      // The find prompt takes the status line's place, with the terminal's cursor in it.
      const { line, cursorX } = this.prompt.render(this.columns, this.message);
      lines.push(line);
      if (rows >= 3) lines.push(this.bottomLine());
      return { lines, cursor: { x: cursorX, y: height } };
    }
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
    if (rows >= 3) lines.push(this.bottomLine());
    // The help screen has no cursor of its own: the terminal's stays hidden.
    if (this.helpScroll !== undefined) return { lines };
    const at = layout.locate(this.cursor.index);
    return {
      lines,
      cursor: { x: Math.min(at.col, this.columns - 1), y: rowDistance(layout, top, { line: at.line, row: at.row }, height) },
    };
  }

  /** Paints at once rather than on the next tick. */
  paintNow(): void {
    this.paintQueued = false;
    if (this.stopped) return;
    const out = this.painter.paint(this.frame());
    if (out) this.options.terminal.write(out);
  }

  /** The dimmed line of keys at the bottom, rebuilt only when the width changes. */
  private bottomLine(): string {
    if (this.helpLine?.columns !== this.columns) this.helpLine = { columns: this.columns, line: renderHelpLine(HELP_LINE, this.columns) };
    return this.helpLine.line;
  }

  /** A key on the help screen: arrows and page keys scroll it, any other goes back (^Q quits as well). */
  private applyToHelp(action: EditorAction): boolean {
    if (
      action.kind === 'move' &&
      (action.motion === 'up' || action.motion === 'down' || action.motion === 'page-up' || action.motion === 'page-down')
    ) {
      const step = { up: -1, down: 1, 'page-up': -this.textHeight, 'page-down': this.textHeight }[action.motion];
      this.helpScroll = Math.max(0, Math.min(helpScrollLimit(this.textHeight), (this.helpScroll ?? 0) + step));
      return true;
    }
    this.helpScroll = undefined;
    return action.kind !== 'quit';
  }

  /** A key while the find prompt is open; false when the prompt closed and the key is to do what it always does. */
  private applyToPrompt(action: EditorAction, prompt: FindPrompt): boolean {
    const outcome = prompt.handle(action);
    if (outcome === 'next') this.findNext(prompt.query);
    if (outcome === 'closed' || outcome === 'passed') this.prompt = undefined;
    return outcome !== 'passed';
  }

  /** Selects the next match of `query` after the cursor (or after the current match), going round to the top. */
  private findNext(query: string): void {
    if (query === '') {
      this.message = 'Type the text to find';
      return;
    }
    this.lastQuery = query;
    const match = findNext(this.text.toString(), query, this.selection()?.to ?? this.cursor.index);
    if (!match) {
      this.message = `Not found: ${query}`;
      return;
    }
    this.setAnchor(match.from);
    this.setCursor({ index: match.to }, true);
    this.publishCursor();
    if (match.wrapped) this.message = 'Wrapped to the top';
  }

  /** Backspace or Delete without a selection: one grapheme (a line break counts as one). */
  private deleteOne(kind: 'backspace' | 'delete'): void {
    const layout = this.layout();
    const at = this.cursor.index;
    const [from, to] = kind === 'backspace' ? [layout.prevBoundary(at), at] : [at, layout.nextBoundary(at)];
    if (from < to) this.remove(from, to - from, from);
  }

  /** A movement key; with `select` the selection grows from where the cursor was. */
  private move(motion: Motion, select: boolean): void {
    const layout = this.layout();
    const span = this.selection();
    if (!select && span && (motion === 'left' || motion === 'right')) {
      // Left or Right on a selection goes to its edge (and drops it), as in every editor.
      this.setCursor({ index: motion === 'left' ? span.from : span.to });
      return;
    }
    if (select && !this.anchor) this.setAnchor(this.cursor.index);
    const page = Math.max(1, this.textHeight - 1);
    if (motion === 'page-up' || motion === 'page-down') {
      // The view moves by a page with the cursor, as in any pager.
      const top = this.currentTop(layout);
      const moved = stepRows(layout, top, motion === 'page-up' ? -page : page);
      this.topRel = Y.createRelativePositionFromTypeIndex(this.text, rowStartIndex(layout, moved));
    }
    this.setCursor(moveCursor(layout, this.cursor, motion, page), select);
  }

  /**
   * ^C / ^X: the selection, or without one the whole line with its line break (so ^V puts it
   * back as a line), into our clipboard and the terminal's (OSC 52).
   */
  private copy(cut: boolean): void {
    const selected = this.selection();
    const layout = this.layout();
    const line = layout.lineOf(this.cursor.index);
    const span = selected ?? { from: layout.lineStart(line), to: Math.min(layout.text.length, layout.lineEnd(line) + 1) };
    const text = layout.text.slice(span.from, span.to);
    if (text === '') {
      this.message = 'Nothing to copy: the line is empty';
      return;
    }
    this.clipboard = selected || text.endsWith('\n') ? text : `${text}\n`;
    const sequence = osc52(this.clipboard);
    if (sequence) this.options.terminal.write(sequence);
    if (cut) {
      this.undoManager.stopCapturing();
      this.replace(span, '');
      this.undoManager.stopCapturing();
    }
    const what = selected ? amountOf(text) : 'the line';
    // Someone pressing ^C or ^X to leave (as in a shell, or nano) learns how.
    this.message = `${cut ? 'Cut' : 'Copied'} ${what}${selected ? '' : cut ? ' · ^Z undoes, ^Q quits' : ' · ^Q quits'}`;
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

  /** Types or pastes `text` at the cursor, in place of the selection if there is one. */
  private insert(text: string, paste: boolean): void {
    const span = this.selection() ?? { from: this.cursor.index, to: this.cursor.index };
    // A paste is one undo step of its own, not merged with the typing around it.
    if (paste) this.undoManager.stopCapturing();
    this.replace(span, text);
    if (paste) this.undoManager.stopCapturing();
  }

  /** Replaces a span with `text` in one transaction (one undo step); the cursor goes after it. */
  private replace(span: Span, text: string): void {
    this.options.doc.transact(() => {
      if (span.to > span.from) this.text.delete(span.from, span.to - span.from);
      if (text) this.text.insert(span.from, text);
    }, this.localOrigin);
    this.setCursor({ index: span.from + text.length });
  }

  private remove(index: number, length: number, cursorAfter: number): void {
    this.options.doc.transact(() => this.text.delete(index, length), this.localOrigin);
    this.setCursor({ index: cursorAfter });
  }

  /** Moves the cursor; the selection goes unless `keepSelection` (Shift held). */
  private setCursor(cursor: CursorState, keepSelection = false): void {
    if (!keepSelection) this.setAnchor(undefined);
    this.cursor = cursor;
    this.cursorRel = stickyLeft(this.text, cursor.index);
  }

  private setAnchor(index: number | undefined): void {
    this.anchor = index === undefined ? undefined : { index, rel: stickyLeft(this.text, index) };
  }

  /** The selected span, when the selection is not empty. */
  private selection(): Span | undefined {
    if (!this.anchor || this.anchor.index === this.cursor.index) return undefined;
    const [from, to] = [this.anchor.index, this.cursor.index].sort((a, b) => a - b);
    return { from: from!, to: to! };
  }

  /** Shares our cursor and selection through awareness, only when their relative positions changed (a redraw or an edit elsewhere does not). */
  private publishCursor(): void {
    const cursor = encodeCursor(this.text, this.cursor.index, this.selection() ? this.anchor!.index : undefined);
    const json = JSON.stringify(cursor);
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
      const undone =
        transaction.origin === this.undoManager
          ? cursorAfterDelta(event.delta as Array<{ insert?: unknown; retain?: number; delete?: number }>)
          : undefined;
      if (undone !== undefined) this.setCursor({ index: layout.snap(undone) });
      else {
        // Someone else's edit: the cursor and the selection stay on the characters they were on.
        const index = this.resolve(this.cursorRel) ?? this.cursor.index;
        this.cursor = { index: layout.snap(index), goalCol: this.cursor.goalCol };
        if (this.anchor) this.anchor = { ...this.anchor, index: layout.snap(this.resolve(this.anchor.rel) ?? this.anchor.index) };
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
