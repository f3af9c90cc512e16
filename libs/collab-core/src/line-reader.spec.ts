import { LineReader, type ReadLine } from './line-reader';

const bytes = (text: string) => new TextEncoder().encode(text);
const texts = (read: readonly ReadLine[]) => read.map((r) => (r.kind === 'line' ? new TextDecoder().decode(r.bytes) : '<too long>'));

describe('LineReader', () => {
  it('cuts lines at line feeds and drops a carriage return before one', () => {
    const reader = new LineReader(100);
    expect(texts(reader.push(bytes('one\ntwo\r\n\nthree')))).toEqual(['one', 'two', '']);
    expect(reader.pending).toBe(5);
    expect(texts(reader.push(bytes(' and more\n')))).toEqual(['three and more']);
    expect(reader.pending).toBe(0);
  });

  it('finds the same lines however the stream is cut, a multi-byte character included', () => {
    const stream = bytes('héllo wörld\r\nzwei 🙂\nlast\n');
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new LineReader(100);
      const read = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(texts(read)).toEqual(['héllo wörld', 'zwei 🙂', 'last']);
    }
  });

  it('says whether a line break has come yet, and hands over the rest on request', () => {
    const reader = new LineReader(100);
    reader.push(bytes('bare line'));
    expect(reader.sawLineBreak).toBe(false);
    expect(texts([reader.takeRest()!])).toEqual(['bare line']);
    expect(reader.takeRest()).toBeUndefined();
    reader.push(bytes('a\nb'));
    expect(reader.sawLineBreak).toBe(true);
    expect(texts([reader.takeRest()!])).toEqual(['b']);
  });

  it('takes a line of exactly the limit, with or without a carriage return', () => {
    const reader = new LineReader(8);
    expect(texts(reader.push(bytes('12345678\n12345678\r\n')))).toEqual(['12345678', '12345678']);
  });

  it('reports a line past the limit once, as soon as it passes it, and drops its bytes up to its line break', () => {
    const reader = new LineReader(8);
    expect(texts(reader.push(bytes('1234567890')))).toEqual(['<too long>']); // 9 could still be 8 and a carriage return
    expect(reader.pending).toBe(0);
    expect(texts(reader.push(bytes('more of the same line')))).toEqual([]);
    expect(reader.pending).toBe(0);
    expect(texts(reader.push(bytes('...\nnext\n')))).toEqual(['next']);
    expect(texts(reader.push(bytes('123456789\nok\n')))).toEqual(['<too long>', 'ok']);
  });

  it('drops what is left of a line too long when the rest is asked for', () => {
    const reader = new LineReader(4);
    expect(texts(reader.push(bytes('toolong')))).toEqual(['<too long>']);
    expect(reader.takeRest()).toBeUndefined();
    expect(texts(reader.push(bytes('ok\n')))).toEqual(['ok']);
  });
});
