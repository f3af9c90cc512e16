// Issue 12, item 3: the last line of defence of the built server. Faults are planted by a
// preload (fixtures/fault-injection.cjs), since a server with a known bug would be fixed instead:
// a bug reached while handling one client's message closes that client (ERROR 3, [ERROR] with
// the stack) and nobody else; anything that escapes stops the process with exit 1 (PM2 starts
// it again), after an [ERROR] line with the cause, and every acknowledged edit is still there.
import { join } from 'node:path';
import { ErrorCode, MessageType } from '@collab/collab-protocol';
import { logLines, startBuiltServer, stopAll } from './built-server';
import { framed, presenceMessage } from './crafted-bytes';
import { WireClient, closeAllClients } from './wire-client';

jest.setTimeout(30_000);

const preload = ['--require', join(__dirname, 'fixtures', 'fault-injection.cjs')];
const BUGGY_PRESENCE = JSON.stringify({ e2eBug: true, name: 'buggy' });

afterEach(async () => {
  closeAllClients();
  await stopAll();
});

it('closes the client whose message trips a bug with ERROR 3 and logs [ERROR] with the stack; the others go on editing', async () => {
  const server = await startBuiltServer({ nodeArgs: preload });
  const watcher = await WireClient.join(server.port, { name: 'watcher' });
  const buggy = await WireClient.join(server.port, { name: 'buggy' });
  buggy.sendRaw(framed(presenceMessage([{ id: 600, clock: 1, json: BUGGY_PRESENCE }])));
  const error = await buggy.refusal();
  expect(error.code).toBe(ErrorCode.ProtocolError);
  expect(error.message).toMatch(/internal error/);
  await server.waitForOutput(
    /\[ERROR\] Internal error while handling a message from client buggy \(127\.0\.0\.1:\d+\): Error: injected bug/,
  );
  expect(server.output()).toMatch(/injected bug[^\n]*\n\s+at /); // the stack
  await server.waitForOutput(/\[WARN\] Sent ERROR 3 to client buggy /);

  const writer = await WireClient.join(server.port, { name: 'writer' });
  await writer.append('still here');
  await watcher.waitFor(() => watcher.text() === 'still here', 'the edit after the bug');
  expect(server.child.exitCode).toBeNull();
});

it('closes a joiner whose join trips a bug with ERROR 3, and the server goes on serving', async () => {
  const server = await startBuiltServer({ nodeArgs: preload });
  // Alone in the document, this presence is stored without being encoded for anyone.
  const owner = await WireClient.join(server.port, { name: 'owner' });
  owner.sendRaw(framed(presenceMessage([{ id: 601, clock: 1, json: BUGGY_PRESENCE }])));
  await owner.ping();
  // The joiner's presence snapshot meets the bug.
  const joiner = await WireClient.connect(server.port);
  joiner.hello('temp', 'joiner');
  const error = await joiner.refusal();
  expect(error.code).toBe(ErrorCode.ProtocolError);
  await server.waitForOutput(/\[ERROR\] Internal error while handling a message from client joiner \(127\.0\.0\.1:\d+\)/);
  expect(server.child.exitCode).toBeNull();
  await owner.append('owner edits on');
  expect(owner.error()).toBeUndefined();
  // Once the owner of the bad state leaves, everyone can join again.
  owner.destroy();
  await server.waitForOutput('Client owner (');
  const late = await WireClient.join(server.port, { name: 'late' });
  expect(late.text()).toBe('owner edits on');
});

describe.each([
  [
    'uncaught exception',
    {},
    /\[ERROR\] Fatal uncaught exception, stopping \([^)]*\): Error: injected fault: an exception thrown from a timer/,
  ],
  [
    'unhandled promise rejection',
    { COLLAB_TEST_FAULT: 'rejection' },
    /\[ERROR\] Fatal unhandled promise rejection, stopping \([^)]*\): Error: injected fault: a promise rejected/,
  ],
])('an %s outside any message', (_kind, env, line) => {
  it('is logged as [ERROR] with its cause, the server exits 1, and every acknowledged edit is there after a restart', async () => {
    const server = await startBuiltServer({ nodeArgs: preload, env });
    const client = await WireClient.join(server.port, { name: 'ann' });
    await client.append('acknowledged before the fault');
    server.child.kill('SIGUSR2');
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(line);
    // It stopped in order: clients told, the document stored.
    await client.waitFor(() => client.closed, 'the close');
    expect(client.error()?.code ?? ErrorCode.ShuttingDown).toBe(ErrorCode.ShuttingDown);
    expect(logLines(server, '[INFO] Server shut down')).toHaveLength(1);

    const again = await startBuiltServer({ dataDir: server.dataDir });
    const joiner = await WireClient.join(again.port);
    expect(joiner.text()).toBe('acknowledged before the fault');
    expect(joiner.messages.some((m) => m.type === MessageType.Error)).toBe(false);
  });
});
