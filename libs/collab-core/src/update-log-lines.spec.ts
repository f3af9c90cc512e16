import { PassThrough } from 'node:stream';
import { createLogger } from '@collab/logging';
import { UpdateLogLines } from './update-log-lines';

/** A peer whose label counts how often it is read (a session builds it on each read). */
function peer(name: string) {
  const counted = {
    reads: 0,
    get label() {
      counted.reads++;
      return `${name} (127.0.0.1:4000)`;
    },
  };
  return counted;
}

function logTo(level: string) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level, stream }), lines };
}

const typed = (inserted: string) => ({ inserted, deleted: 0 });

describe('UpdateLogLines', () => {
  it('reads no label and logs nothing when [UPDATE] lines are not logged (--log-level warn)', async () => {
    const { logger, lines } = logTo('warn');
    const log = new UpdateLogLines(logger);
    const [ann, bob, eve] = [peer('ann'), peer('bob'), peer('eve')];
    for (let i = 0; i < 100; i++) log.note('temp', ann, typed('x'), [bob, eve]);
    log.note('temp', ann, typed('\n'), [bob, eve]);
    log.flushAll();
    await logger.close();
    expect(lines).toEqual([]);
    expect(ann.reads + bob.reads + eve.reads).toBe(0);
  });

  it("logs a line's worth of edits once, and each recipient once, reading its label when the line is logged", async () => {
    const { logger, lines } = logTo('info');
    const log = new UpdateLogLines(logger);
    const [ann, bob, eve] = [peer('ann'), peer('bob'), peer('eve')];
    for (const c of 'hello') log.note('temp', ann, typed(c), [bob, eve]);
    expect(bob.reads + eve.reads).toBe(0);
    log.note('temp', ann, typed('\n'), [bob]);
    log.note('temp', bob, { inserted: '', deleted: 2 }, [ann]);
    log.flushAll();
    await logger.close();
    expect(lines).toEqual([
      '[UPDATE] Document updated by ann (127.0.0.1:4000): hello',
      '[INFO] Broadcasted update to client bob (127.0.0.1:4000)',
      '[INFO] Broadcasted update to client eve (127.0.0.1:4000)',
      '[UPDATE] Document updated by bob (127.0.0.1:4000): (deleted 2 characters)',
      '[INFO] Broadcasted update to client ann (127.0.0.1:4000)',
    ]);
    expect([bob.reads, eve.reads]).toEqual([2, 1]); // bob: as a recipient, then as an author
  });
});
