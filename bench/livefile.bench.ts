// Live file bench: how long an outside write to temp.txt takes to reach every client's screen,
// beside how long a client's own edit takes to reach the others, on the same built server (as
// deployed: watching its data directory, storing before it ACKs), the same document and the
// same three clients, in alternating rounds. For a small document and a large one (1 MiB).
//
// An outside write: a new temp.txt renamed over the old one (as editors save), with one line
// added at the end; it has arrived when every client's text holds that line. A client edit: the
// same line typed by client 0; it has arrived when the two others hold it. Between rounds the
// file is let settle (the server writes it back), so each round starts from a quiet file.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import { CollabSession } from '@collab/collab-protocol';
import { freePort, waitForPort } from '@collab/testing';
import { percentileOf, progress, progressDone, table } from './bench-table';

const ROUNDS = Number(process.env['COLLAB_BENCH_LIVEFILE_ROUNDS'] ?? 40);
const CLIENTS = 3;
const ROUND_TIMEOUT_MS = 10_000;
const SERVER = join(process.cwd(), 'dist', 'apps', 'collab-server', 'main.js');

interface Client {
  doc: Y.Doc;
  session: CollabSession;
  text(): string;
}

async function connectClient(port: number, name: string): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const doc = new Y.Doc();
  const session = new CollabSession(socket, { document: 'temp', clientName: name, doc });
  await session.whenSynced();
  return { doc, session, text: () => doc.getText('content').toString() };
}

/** Resolves with the ms from `start` until `arrived()` holds for every client, checked on each update. */
function arrival(clients: Client[], line: string, start: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const pending = new Set(clients.filter((c) => !c.text().includes(line)));
    const timer = setTimeout(() => reject(new Error(`"${line.trim()}" did not arrive within ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      for (const c of clients) c.doc.off('update', listeners.get(c)!);
      resolve(performance.now() - start);
    };
    const listeners = new Map<Client, () => void>();
    for (const c of clients) {
      const listener = () => {
        if (pending.has(c) && c.text().includes(line)) pending.delete(c);
        if (pending.size === 0) done();
      };
      listeners.set(c, listener);
      c.doc.on('update', listener);
    }
    if (pending.size === 0) done();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(label: string, initialBytes: number): Promise<string[][]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'collab-bench-livefile-'));
  const file = join(dataDir, 'temp.txt');
  const filler = 'the quick brown fox jumps over the lazy dog, again and again\n';
  writeFileSync(file, filler.repeat(Math.max(1, Math.ceil(initialBytes / filler.length))));
  const port = await freePort('127.0.0.1');
  const server = spawn(
    process.execPath,
    [SERVER, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    await waitForPort(port, { stillAlive: () => server.exitCode === null });
    const clients: Client[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(await connectClient(port, `bench${i}`));
    const fromFile: number[] = [];
    const fromClient: number[] = [];
    const settle = async () => {
      // The file holds the document again (the server wrote it back) before the next round.
      const deadline = Date.now() + ROUND_TIMEOUT_MS;
      while (readFileSync(file, 'utf8') !== clients[0].text() && Date.now() < deadline) await sleep(20);
      await sleep(100);
    };
    await settle();
    for (let round = 0; round < ROUNDS; round++) {
      progress(`${label}: round ${round + 1}/${ROUNDS}`);
      const fileLine = `written to the file, round ${round}\n`;
      const temp = join(dataDir, '.temp.txt.bench');
      writeFileSync(temp, readFileSync(file, 'utf8') + fileLine);
      let start = performance.now();
      let arrived = arrival(clients, fileLine, start);
      renameSync(temp, file);
      fromFile.push(await arrived);
      await settle();
      const clientLine = `typed by a client, round ${round}\n`;
      start = performance.now();
      arrived = arrival(clients.slice(1), clientLine, start);
      const text = clients[0].doc.getText('content');
      text.insert(text.length, clientLine);
      fromClient.push(await arrived);
      await settle();
    }
    progressDone();
    for (const c of clients) c.session.close();
    const p = (values: number[], q: number) => percentileOf(values, q).toFixed(1);
    const ratio = (q: number) => (percentileOf(fromFile, q) / percentileOf(fromClient, q)).toFixed(1);
    return [
      [`${label}: outside write of temp.txt`, p(fromFile, 50), p(fromFile, 99), `${ratio(50)}x / ${ratio(99)}x`],
      [`${label}: a client's edit`, p(fromClient, 50), p(fromClient, 99), '1x'],
    ];
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows = [...(await measure('1 KiB document', 1024)), ...(await measure('1 MiB document', 1024 * 1024))];
  console.log(`\nTime to every client's screen, ms (${ROUNDS} rounds each, ${CLIENTS} clients, alternating):\n`);
  console.log(table(['change', 'p50', 'p99', 'ratio p50 / p99'], rows));
  console.log('\nAn outside write waits for the file to hold still (a 50 ms debounce, then a read and 50 ms more) before it is merged;');
  console.log("a client's edit is relayed as it arrives.");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
