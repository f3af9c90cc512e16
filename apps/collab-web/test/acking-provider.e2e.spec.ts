// The page's provider layer in Node, over `ws`, against the built server: "saved" means stored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { waitFor } from '@collab/testing';
import { AckingProvider } from '../src/acking-provider';
import { startBuiltServer, stopBuiltServers } from './built-server';

const providers: AckingProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) {
    p.provider.awareness.destroy();
    p.destroy();
  }
  await stopBuiltServers();
});

function open(wsPort: number, doc = new Y.Doc()): AckingProvider {
  const acking = new AckingProvider({
    serverUrl: `ws://127.0.0.1:${wsPort}`,
    document: 'temp',
    doc,
    name: 'node',
    WebSocket: WebSocket as never,
  });
  providers.push(acking);
  return acking;
}

it('is saved once the server has stored the edits, and temp.txt holds them after a clean stop', async () => {
  const server = await startBuiltServer();
  const doc = new Y.Doc();
  const acking = open(server.wsPort, doc);
  await waitFor(() => acking.provider.synced, 'sync');
  doc.getText('content').insert(0, 'stored before saved\n');
  expect(acking.tracker.saved).toBe(false);
  await waitFor(() => acking.tracker.saved, 'saved');
  await server.stop();
  expect(readFileSync(join(server.dataDir, 'temp.txt'), 'utf8')).toBe('stored before saved\n');
});

it('keeps edits made while the server is away, and is saved once the restarted server stored them', async () => {
  const server = await startBuiltServer();
  const doc = new Y.Doc();
  const acking = open(server.wsPort, doc);
  await waitFor(() => acking.provider.synced, 'sync');
  doc.getText('content').insert(0, 'before\n');
  await waitFor(() => acking.tracker.saved, 'saved');
  await server.stop();
  await waitFor(() => !acking.provider.wsconnected, 'the disconnect');
  const text = doc.getText('content');
  text.insert(text.length, 'typed while the server was away\n');
  expect(acking.tracker.saved).toBe(false);
  await server.restart();
  await waitFor(() => acking.tracker.saved, 'saved again', 20_000);
  // A fresh client sees everything: nothing typed offline was lost.
  const fresh = new Y.Doc();
  const other = open(server.wsPort, fresh);
  await waitFor(() => other.provider.synced, 'the second sync');
  expect(fresh.getText('content').toString()).toBe('before\ntyped while the server was away\n');
  expect(server.output()).not.toMatch(/\[WARN\] (?!Listening on)|\[ERROR\]/);
}, 30_000);
