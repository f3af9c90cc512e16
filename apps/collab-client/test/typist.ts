// Someone typing in the terminal editor, as the server sees it: one edit per keystroke, a few
// milliseconds apart, over a real connection (CollabSession on a socket to 127.0.0.1).
import { connect } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import { CollabSession } from '@collab/collab-protocol';
import { TEXT_NAME } from '@collab/collab-protocol';

/** A connected typist; every method resolves once its edits are stored by the server. */
export interface Typist {
  readonly text: Y.Text;
  /** Types `chars` one keystroke at a time at `at` (default: the end). */
  type(chars: string, at?: number): Promise<void>;
  /** Deletes `length` characters at `at` in one edit, as a selection and Delete would. */
  remove(at: number, length: number): Promise<void>;
  close(): void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects a typist to document `document` on the server at 127.0.0.1:`port`. */
export async function startTypist(port: number, document = 'temp', keystrokeMs = 20): Promise<Typist> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const doc = new Y.Doc();
  const session = new CollabSession(socket, { document, clientName: 'typist', doc });
  await session.whenSynced();
  const text = doc.getText(TEXT_NAME);
  return {
    text,
    async type(chars, at = text.length) {
      for (const [i, c] of [...chars].entries()) {
        text.insert(at + i, c);
        await pause(keystrokeMs);
      }
      await session.whenSaved();
    },
    async remove(at, length) {
      text.delete(at, length);
      await session.whenSaved();
    },
    close: () => session.close(),
  };
}
