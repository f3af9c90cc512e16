// PLACEHOLDER written by the lead so main.ts builds; helper-6 replaces this file entirely.
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { ReconnectingClient } from '@collab/collab-protocol';
export interface EditorSettings {
  client: ReconnectingClient;
  doc: Y.Doc;
  awareness: Awareness;
  server: string;
  document: string;
  name: string;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}
/** Runs the full-screen editor until the user quits; resolves with the exit code (0). */
export async function runEditor(_settings: EditorSettings): Promise<number> {
  throw new Error('the terminal editor is not built yet');
}
