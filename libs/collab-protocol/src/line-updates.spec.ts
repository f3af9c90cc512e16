import { LineUpdates, QUIET_MS, lineModeText, plainTextLine, type LineUpdate } from './line-updates';

/** A reporter on a fake clock: `type` and `local` change the text, `wait` lets time pass. */
function reporter(initial = '') {
  let now = 0;
  const printed: string[] = [];
  const reported: LineUpdate[] = [];
  const timers: Array<{ at: number; fn: () => void }> = [];
  let text = initial;
  const updates = new LineUpdates(initial, {
    report: (update) => {
      reported.push(update);
      printed.push(lineModeText(update));
    },
    now: () => now,
    setTimer: (ms, fn) => {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
  });
  /** A remote edit: insert `inserted` at `at` (and delete `deleted` characters there first). */
  const edit = (at: number, inserted: string, deleted = 0, remote = true) => {
    text = text.slice(0, at) + inserted + text.slice(at + deleted);
    const newlines = [...inserted].flatMap((c, i) => (c === '\n' ? [at + i] : []));
    updates.change(text, remote ? newlines : undefined);
  };
  return {
    printed,
    reported,
    updates,
    text: () => text,
    /** Someone else types `chars` one keystroke at a time at `at`, 50 ms apart. */
    type(at: number, chars: string) {
      for (const [i, c] of [...chars].entries()) {
        edit(at + i, c);
        this.wait(50);
      }
    },
    edit,
    /** Our own edit (line mode appends), never printed. */
    local: (at: number, inserted: string) => edit(at, inserted, 0, false),
    wait(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.splice(timers.indexOf(due), 1);
        now = due.at;
        due.fn();
      }
      now = until;
    },
  };
}

describe('LineUpdates (line mode: what others changed, a whole line at a time)', () => {
  it('prints a line typed keystroke by keystroke once, when Enter ends it', () => {
    const r = reporter();
    r.type(0, 'Print three words');
    expect(r.printed).toEqual([]);
    r.type(r.text().length, '\n');
    expect(r.printed).toEqual(['Document updated: Print three words']);
  });

  it(`prints a line still being typed once it has not changed for ${QUIET_MS} ms`, () => {
    const r = reporter('first\n');
    r.type(6, 'unfinished');
    r.wait(QUIET_MS - 100);
    expect(r.printed).toEqual([]);
    r.wait(100);
    expect(r.printed).toEqual(['Document updated: unfinished']);
    r.wait(5000);
    expect(r.printed).toHaveLength(1);
  });

  it('waits for each line on its own: typing on one line does not hold back another', () => {
    const r = reporter('a\nb\n');
    r.type(1, 'A'); // line 1 becomes "aA"
    for (let i = 0; i < 30; i++) r.type(r.text().length, 'x'); // someone keeps typing at the end
    expect(r.printed).toEqual(['Document updated (line 1): aA']);
  });

  it('gives the line number of a line changed anywhere but at the end', () => {
    const r = reporter('one\ntwo\nthree\n');
    r.type(4, 'number ');
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 2): number two']);
  });

  it('numbers a changed last line too, so it does not read as a new one', () => {
    const r = reporter('one\ntwo\n');
    r.type(7, 's');
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 2): twos']);
  });

  it('prints a line split by Enter as the two lines it became', () => {
    const r = reporter('abcdef\nlast\n');
    r.edit(3, '\n');
    expect(r.printed).toEqual(['Document updated (line 1): abc']);
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 1): abc', 'Document updated (line 2): def']);
  });

  it('prints every line of a pasted block at once, in order', () => {
    const r = reporter('top\n');
    r.edit(4, 'a\nb\nc\n');
    expect(r.printed).toEqual(['Document updated: a', 'Document updated: b', 'Document updated: c']);
  });

  it('prints each line another line-mode client appends (one edit per line), as the assignment does', () => {
    const r = reporter();
    r.edit(0, 'from the other one\n');
    r.edit(r.text().length, 'and more\n');
    expect(r.printed).toEqual(['Document updated: from the other one', 'Document updated: and more']);
  });

  it('says which line was deleted, with the text it had', () => {
    const r = reporter('keep\ngone\nkeep too\n');
    r.edit(5, '', 5);
    expect(r.printed).toEqual(['Document updated (line 2 deleted): gone']);
  });

  it('sums up several deleted lines in one line', () => {
    const r = reporter('a\nb\nc\nd\n');
    r.edit(2, '', 4);
    expect(r.printed).toEqual(['Document updated (lines 2-3 deleted)']);
  });

  it('reports a line emptied keystroke by keystroke and then joined away as deleted, with the text it had', () => {
    const r = reporter('a\nbc\n');
    r.edit(3, '', 1);
    r.edit(2, '', 1);
    r.edit(1, '', 1); // the line break: the empty line is gone
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 2 deleted): bc']);
  });

  it('reports a line joined to the one before as deleted, and the longer line once it settles', () => {
    const r = reporter('abc\ndef\n');
    r.edit(3, '', 1);
    expect(r.printed).toEqual(['Document updated (line 2 deleted): def']);
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 2 deleted): def', 'Document updated (line 1): abcdef']);
  });

  it('prints nothing for a line typed and deleted again before it settled', () => {
    const r = reporter('x\n');
    r.type(2, 'oops');
    r.edit(2, '', 4);
    r.wait(QUIET_MS * 2);
    expect(r.printed).toEqual([]);
  });

  it('never prints our own lines, and keeps them apart from a line someone is typing', () => {
    const r = reporter('x\n');
    r.type(2, 'the');
    r.local(5, '\nmine\n');
    expect(r.printed).toEqual([]);
    r.wait(QUIET_MS);
    expect(r.printed).toEqual(['Document updated (line 2): the']);
  });

  it('prints what is still pending when asked to flush (the end of input)', () => {
    const r = reporter();
    r.type(0, 'half a line');
    r.updates.flush();
    expect(r.printed).toEqual(['Document updated: half a line']);
  });

  it('prints an added blank line as such', () => {
    const r = reporter('a\nb\n');
    r.edit(2, '\n');
    expect(r.printed).toEqual(['Document updated (line 2): ']);
  });

  it('words each update for a plain-text client as what follows "Document updated" in line mode', () => {
    const r = reporter('a\nb\nc\nd\n');
    r.edit(8, 'e\n');
    r.edit(0, 'A', 1);
    r.wait(QUIET_MS);
    r.edit(2, '', 2);
    r.edit(2, '', 4);
    expect(r.reported.map(plainTextLine)).toEqual(['e', '(line 1): A', '(line 2 deleted): b', '(lines 2-3 deleted)']);
    expect(r.printed).toEqual([
      'Document updated: e',
      'Document updated (line 1): A',
      'Document updated (line 2 deleted): b',
      'Document updated (lines 2-3 deleted)',
    ]);
  });
});
