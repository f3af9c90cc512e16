// The web editor: the document named by the page's path (`/` is `temp`) in CodeMirror 6, shared
// through y-codemirror.next and y-websocket's provider with everyone else in it, whatever their
// client; the status line says whether the page is connected, whether every edit is stored on
// the server's disk ("saved", from the server's ACKs), and who is here.

import { EditorState } from '@codemirror/state';
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { defaultKeymap, indentWithTab } from '@codemirror/commands';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import * as Y from 'yjs';
import { AckingProvider } from '../acking-provider';
import { safeName, sanitizeStates, userFor } from '../presence';
import { DEFAULT_DOCUMENT, TEXT_NAME } from '../protocol';
import { StatusLine } from './status-line';

const NAME_KEY = 'collab-name';

function documentName(): string {
  const path = decodeURIComponent(location.pathname.slice(1));
  return path === '' ? DEFAULT_DOCUMENT : path;
}

function initialName(): string {
  const stored = localStorage.getItem(NAME_KEY);
  if (stored && stored.trim()) return stored.trim();
  const name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
  localStorage.setItem(NAME_KEY, name);
  return name;
}

function start(): void {
  const document = documentName();
  const params = new URLSearchParams(location.search);
  let name = initialName();
  window.document.title = `${document} · collab`;
  window.document.getElementById('document')!.textContent = document;

  const doc = new Y.Doc();
  const text = doc.getText(TEXT_NAME);
  const serverUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  const acking = new AckingProvider({ serverUrl, document, doc, name, token: params.get('token') ?? undefined });
  const { provider } = acking;
  const awareness = provider.awareness;
  awareness.setLocalStateField('user', userFor(name));
  // Before the editor's own listener: remote cursors then only see checked names, colours and positions.
  const sanitize = () => sanitizeStates(awareness.getStates() as Map<number, Record<string, unknown>>, doc.clientID);
  awareness.on('change', sanitize);
  awareness.on('update', sanitize);

  const undoManager = new Y.UndoManager(text);
  const view = new EditorView({
    parent: window.document.getElementById('editor')!,
    state: EditorState.create({
      doc: text.toString(),
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
        yCollab(text, awareness, { undoManager }),
      ],
    }),
  });
  view.focus();

  const status = new StatusLine(window.document.getElementById('status')!, acking, doc.clientID);
  status.render();

  const nameField = window.document.getElementById('name') as HTMLInputElement;
  nameField.value = name;
  const rename = () => {
    const next = safeName(nameField.value);
    if (next === name) return;
    name = next;
    localStorage.setItem(NAME_KEY, name);
    awareness.setLocalStateField('user', userFor(name));
    acking.setName(name);
  };
  nameField.addEventListener('change', rename);
  nameField.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      rename();
      view.focus();
    }
  });
  window.addEventListener('beforeunload', (event) => {
    if (!acking.tracker.saved) event.preventDefault();
  });
  // For tests and the curious: the page's parts.
  Object.assign(window, { collab: { doc, text, provider, tracker: acking.tracker, view } });
}

start();
