// Issue 12, files: the built server creates a document's files at its first stored edit only,
// refuses a data directory whose parent is missing, tells a torn write (cut off, [WARN]) from a
// damaged record that may hold an acknowledged edit (refused, with advice that really recovers
// the text), and never tells a client its file paths.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, MessageType } from '@collab/collab-protocol';
import { logLines, runBuiltServerToExit, startBuiltServer, stopAll, tempDir } from './built-server';
import { WireClient, closeAllClients } from './wire-client';

jest.setTimeout(60_000);

const run = promisify(execFile);
const CLIENT_MAIN = join(__dirname, '..', '..', '..', 'dist', 'apps', 'collab-client', 'main.js');

afterEach(async () => {
  closeAllClients();
  await stopAll();
});

/** Byte offsets of the records of an update log (crc32, length, payload). */
function recordOffsets(path: string): number[] {
  const bytes = readFileSync(path);
  const offsets: number[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8 + bytes.readUInt32LE(at + 4)) offsets.push(at);
  return offsets;
}

/** Flips one byte of a file. */
function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] ^= 0x20;
  writeFileSync(path, bytes);
}

/**
 * Starts a server in `dataDir`, appends each line as its own acknowledged edit, waits for NAME.txt
 * (FLUSH), and kills it with SIGKILL: a clean stop would fold the log into the snapshot, and these
 * tests damage log records.
 */
async function writeLines(dataDir: string, lines: string[], document = 'temp'): Promise<void> {
  const server = await startBuiltServer({ dataDir });
  const client = await WireClient.join(server.port, { document, name: 'writer' });
  for (const line of lines) await client.append(line);
  client.send({ type: MessageType.Flush });
  await client.waitFor(() => client.messages.some((m) => m.type === MessageType.Flushed), 'FLUSHED');
  client.destroy();
  server.child.kill('SIGKILL');
  expect(await server.exited).toBeNull();
}

describe('files are created at the first stored edit', () => {
  it('leaves no NAME.txt, .log or .meta for --print or a HELLO of a document never edited; temp.txt is created at start', async () => {
    const server = await startBuiltServer();
    expect(existsSync(join(server.dataDir, 'temp.txt'))).toBe(true);
    const printed = await run(process.execPath, [
      CLIENT_MAIN,
      '--host',
      '127.0.0.1',
      '--port',
      String(server.port),
      '--doc',
      'printed',
      '--print',
    ]);
    expect(printed.stdout).toBe('');
    const visitor = await WireClient.join(server.port, { document: 'visited', name: 'visitor' });
    await visitor.ping();
    visitor.destroy();
    const writer = await WireClient.join(server.port, { document: 'written', name: 'writer' });
    await writer.append('x');
    writer.destroy();
    expect(await server.stop()).toBe(0);
    const files = readdirSync(server.dataDir).filter((f) => !f.startsWith('.'));
    expect(files.filter((f) => /^(printed|visited)\./.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['temp.txt', 'written.txt', 'written.log']));
  });

  it('creates a missing --data-dir whose parent exists, and refuses one whose parent is missing with one line and exit 2', async () => {
    const parent = tempDir();
    const server = await startBuiltServer({ dataDir: join(parent, 'new') });
    expect(existsSync(join(parent, 'new', 'temp.txt'))).toBe(true);
    await server.stop();
    const missing = join(parent, 'no', 'such', 'dir');
    const { code, output } = await runBuiltServerToExit({ dataDir: parent, args: ['--port', '0', '--data-dir', missing] });
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain(`its parent ${join(parent, 'no', 'such')} does not exist`);
    expect(existsSync(join(parent, 'no'))).toBe(false);
  });
});

describe('a damaged update log', () => {
  it('refuses to start when the last record, written whole, fails its checksum, and its advice recovers every acknowledged edit', async () => {
    const dataDir = tempDir();
    await writeLines(dataDir, ['one\n', 'two\n', 'three\n']);
    const log = join(dataDir, 'temp.log');
    const last = recordOffsets(log).at(-1)!;
    flipByte(log, last + 9); // a byte of its payload

    const refused = await runBuiltServerToExit({ dataDir, args: ['--port', '0', '--data-dir', dataDir] });
    expect(refused.code).toBe(2);
    const lines = refused.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`[ERROR] Error opening file temp.txt: ${log} is damaged at byte offset ${last}`);
    expect(lines[0]).toContain(`(truncate -s ${last} ${log}) and delete ${join(dataDir, 'temp.meta')}`);
    expect(readFileSync(log).length).toBeGreaterThan(last); // nothing was cut

    // What the operator is told to do.
    truncateSync(log, last);
    rmSync(join(dataDir, 'temp.meta'));
    const server = await startBuiltServer({ dataDir });
    const reader = await WireClient.join(server.port);
    expect(reader.text()).toBe('one\ntwo\nthree\n');
    await reader.append('four\n');
  });

  it.each([
    ['a record running past the end of the file', (log: string) => appendFileSync(log, Buffer.from([1, 2, 3, 4, 100, 0, 0, 0, 9, 9]))],
    ['a zero-filled tail', (log: string) => appendFileSync(log, Buffer.alloc(4096))],
  ])('cuts off a torn write (%s) with a [WARN] and keeps every record before it', async (_what, tear) => {
    const dataDir = tempDir();
    await writeLines(dataDir, ['kept\n']);
    const log = join(dataDir, 'temp.log');
    const size = readFileSync(log).length;
    tear(log);
    const server = await startBuiltServer({ dataDir });
    expect(logLines(server, `[WARN] ${log}: cut off a torn last record at offset ${size}`)).toHaveLength(1);
    expect(readFileSync(log).length).toBe(size);
    const reader = await WireClient.join(server.port);
    expect(reader.text()).toBe('kept\n');
  });

  it("tells a client only why a damaged document cannot be opened (ERROR 7, no server paths); the path and advice go to the server's log", async () => {
    const dataDir = tempDir();
    await writeLines(dataDir, ['a\n', 'b\n', 'c\n'], 'notes');
    const log = join(dataDir, 'notes.log');
    const middle = recordOffsets(log)[1];
    flipByte(log, middle + 9);
    const server = await startBuiltServer({ dataDir });
    const client = await WireClient.connect(server.port);
    client.hello('notes', 'reader');
    const error = await client.refusal();
    expect(error.code).toBe(ErrorCode.StorageUnavailable);
    expect(error.message).toContain('damaged');
    expect(error.message).not.toContain(dataDir);
    expect(error.message).not.toMatch(/\/|truncate|offset/);
    await server.waitForOutput(`[ERROR] Error opening document notes: ${log} is damaged at byte offset ${middle}`);
    await server.waitForOutput(/\[WARN\] Sent ERROR 7 to client reader \(127\.0\.0\.1:\d+\)/);
    // The rest of the server is not affected.
    const writer = await WireClient.join(server.port, { name: 'writer' });
    await writer.append('temp is fine');
  });
});

describe('a damaged snapshot', () => {
  it('refuses to start naming the snapshot, and its advice (move the snapshot and log aside, delete the meta) brings the text back', async () => {
    const dataDir = tempDir();
    // Past the 4 MiB log the document is compacted into NAME.snapshot.
    const big = 'é'.repeat(2_200_000);
    await writeLines(dataDir, [big, '\nlast line\n']);
    const snapshot = join(dataDir, 'temp.snapshot');
    expect(existsSync(snapshot)).toBe(true);
    flipByte(snapshot, 100);

    const refused = await runBuiltServerToExit({ dataDir, args: ['--port', '0', '--data-dir', dataDir] });
    expect(refused.code).toBe(2);
    const lines = refused.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${snapshot} is damaged at byte offset 0`);
    expect(lines[0]).toContain(`move both out of the data directory, and delete ${join(dataDir, 'temp.meta')}`);

    const aside = join(dataDir, 'aside');
    mkdirSync(aside);
    renameSync(snapshot, join(aside, 'temp.snapshot'));
    if (existsSync(join(dataDir, 'temp.log'))) renameSync(join(dataDir, 'temp.log'), join(aside, 'temp.log'));
    rmSync(join(dataDir, 'temp.meta'));
    const server = await startBuiltServer({ dataDir });
    const reader = await WireClient.join(server.port, { timeoutMs: 30_000 });
    expect(reader.text() === `${big}\nlast line\n`).toBe(true);
  });
});
