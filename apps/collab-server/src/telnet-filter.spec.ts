import { TelnetFilter } from './telnet-filter';

const IAC = 0xff;
const DONT = 0xfe;
const DO = 0xfd;
const WONT = 0xfc;
const WILL = 0xfb;
const SB = 0xfa;
const SE = 0xf0;
const ECHO = 1;
const SGA = 3;
const NAWS = 31;

const ascii = (text: string) => [...Buffer.from(text)];
const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');

describe('TelnetFilter', () => {
  it('passes text without telnet commands through untouched', () => {
    const filter = new TelnetFilter();
    const chunk = Uint8Array.from(ascii('plain line\r\n'));
    expect(filter.push(chunk)).toEqual({ data: chunk, replies: new Uint8Array(0) });
  });

  it('refuses every option offered or asked for, once each, and takes the commands out of the text', () => {
    const filter = new TelnetFilter();
    const { data, replies } = filter.push(
      Uint8Array.from([IAC, DO, ECHO, ...ascii('ab'), IAC, WILL, NAWS, IAC, DO, SGA, IAC, WONT, ECHO, IAC, DONT, SGA, ...ascii('c\r\n')]),
    );
    expect(text(data)).toBe('abc\r\n');
    expect([...replies]).toEqual([IAC, WONT, ECHO, IAC, DONT, NAWS, IAC, WONT, SGA]);
    // Asked again: no answer, so two insistent sides cannot loop.
    expect([...filter.push(Uint8Array.from([IAC, DO, ECHO])).replies]).toEqual([]);
  });

  it('skips subnegotiations and other commands, and keeps an escaped 0xFF as data', () => {
    const filter = new TelnetFilter();
    const { data } = filter.push(
      Uint8Array.from([IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE, ...ascii('x'), IAC, 0xf1, IAC, IAC, ...ascii('y')]),
    );
    expect([...data]).toEqual([...ascii('x'), IAC, ...ascii('y')]);
  });

  it('finds the same text however the stream is cut', () => {
    const stream = Uint8Array.from([...ascii('one'), IAC, DO, ECHO, IAC, SB, 24, 1, IAC, SE, ...ascii('\r'), 0, ...ascii('two\r\n')]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const filter = new TelnetFilter();
      const a = filter.push(stream.subarray(0, cut));
      const b = filter.push(stream.subarray(cut));
      expect(text(a.data) + text(b.data)).toBe('one\rtwo\r\n');
      expect([...a.replies, ...b.replies]).toEqual([IAC, WONT, ECHO]);
    }
  });
});
