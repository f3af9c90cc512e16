import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Y from 'yjs';
import fc from 'fast-check';
import { cleanup, connectClient, startServer, waitFor, type TestClient } from './harness';
import { loadConcurrentTrace, traceDataPath, TEXT } from '@collab/testing';

afterEach(cleanup);

it('replays the real 3-person concurrent trace through the server to its endContent', async () => {
  const trace = loadConcurrentTrace(traceDataPath('clownschool-concurrent.json.gz'));
  const { endContent, agents } = trace;
  const sequence = trace.steps.flatMap((steps, agent) => steps.map((step) => ({ agent, ...step }))).sort((x, y) => x.index - y.index);
  const { server, port, dataDir } = await startServer();
  const clients: TestClient[] = [];
  for (let a = 0; a < agents; a++) clients.push(await connectClient(port, { host: a % 2 ? '::1' : '127.0.0.1', name: `agent${a}` }));
  // Each agent's client sends its own updates in trace order, as fast as it can, waiting only
  // until the other people's edits its next one builds on have reached it through the server.
  for (let i = 0; i < sequence.length; i++) {
    const { agent, update, needs } = sequence[i]!;
    if (!update) continue;
    const doc = clients[agent]!.doc;
    // The trace gives agent b the Yjs client id b + 1.
    const ready = () => needs.every((clock, b) => b === agent || Y.getState(doc.store, b + 1) >= clock);
    if (!ready()) await untilDocIs(doc, ready, `the edits trace step ${i} builds on`);
    Y.applyUpdate(doc, update);
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => clients.every((c) => c.doc.getText(TEXT).toString() === endContent), 'every client at endContent', 60_000);
  for (const c of clients) await c.session.whenSaved();
  await server.close();
  expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe(endContent);
}, 120_000);

/** Resolves as soon as a change to `doc` makes check() true (no polling: the trace waits thousands of times). */
function untilDocIs(doc: Y.Doc, check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      doc.off('update', onUpdate);
      reject(new Error(`timed out waiting for ${what}`));
    }, 30_000);
    const onUpdate = () => {
      if (!check()) return;
      clearTimeout(timer);
      doc.off('update', onUpdate);
      resolve();
    };
    doc.on('update', onUpdate);
  });
}

type Op =
  | { kind: 'insert'; client: number; at: number; text: string }
  | { kind: 'delete'; client: number; at: number; length: number }
  | { kind: 'toggle'; client: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      client: fc.nat(3),
      at: fc.nat(),
      text: fc.string({ minLength: 1, maxLength: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), client: fc.nat(3), at: fc.nat(), length: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggle' as const), client: fc.nat(3) }) },
);

it('converges for random concurrent edits, disconnects and offline edits from 4 clients', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
      const { server, port, dataDir } = await startServer();
      try {
        const docs = Array.from({ length: 4 }, () => new Y.Doc());
        const live: Array<TestClient | undefined> = [];
        for (let i = 0; i < 4; i++) live.push(await connectClient(port, { doc: docs[i], host: i % 2 ? '::1' : '127.0.0.1' }));
        for (const op of ops) {
          const text = docs[op.client]!.getText('content');
          if (op.kind === 'insert') text.insert(op.at % (text.length + 1), op.text);
          else if (op.kind === 'delete' && text.length > 0) {
            const at = op.at % text.length;
            text.delete(at, Math.min(op.length, text.length - at));
          } else if (op.kind === 'toggle') {
            const c = live[op.client];
            if (c) {
              c.close();
              live[op.client] = undefined;
            } else live[op.client] = await connectClient(port, { doc: docs[op.client] });
          }
          // Let some traffic through between operations, not all: edits cross in flight.
          if (op.client % 2 === 0) await new Promise((r) => setImmediate(r));
        }
        for (let i = 0; i < 4; i++) if (!live[i]) live[i] = await connectClient(port, { doc: docs[i] });
        const expected = () => docs[0]!.getText('content').toString();
        await waitFor(() => docs.every((d) => d.getText('content').toString() === expected()), 'convergence');
        for (const c of live) await c!.session.whenSaved();
        await server.close();
        expect(readFileSync(join(dataDir, 'temp.txt'), 'utf8')).toBe(expected());
      } finally {
        await server.close();
      }
    }),
    { numRuns: 25 },
  );
}, 120_000);
