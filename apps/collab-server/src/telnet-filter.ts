// Telnet (RFC 854) on the plain-text side of the port: a telnet client may send commands, each
// starting with IAC (0xFF), among what the user types. They are taken out of the text, and every
// option the client offers or asks for is refused (RFC 854's "WONT"/"DONT"), so telnet stays in its
// default mode: line by line, echoing locally, which is what a plain-text session wants. Each
// option is refused once, so two sides that both insist cannot loop. `CR NUL` (telnet's bare
// carriage return) becomes CR. UTF-8 never holds 0xFF, so filtering every plain-text connection
// is safe. (The one telnet library on npm, telnet-stream, is AGPL-3.0: this is the small part we need.)

const IAC = 0xff;
const DONT = 0xfe;
const DO = 0xfd;
const WONT = 0xfc;
const WILL = 0xfb;
const SB = 0xfa;
const SE = 0xf0;
const CR = 0x0d;
const NUL = 0x00;

type State = 'data' | 'iac' | 'option' | 'sub' | 'sub-iac';

/** What one chunk held: the text, and the answers to send back. */
export interface TelnetChunk {
  data: Uint8Array;
  replies: Uint8Array;
}

/** Takes telnet commands out of a byte stream, and refuses every option. */
export class TelnetFilter {
  private state: State = 'data';
  private verb = 0;
  private afterCr = false;
  private readonly refused = new Set<number>();

  /** The chunk without its telnet commands, and the refusals to send back (empty when none). */
  push(chunk: Uint8Array): TelnetChunk {
    if (this.state === 'data' && !chunk.includes(IAC) && !chunk.includes(NUL)) {
      if (chunk.length > 0) this.afterCr = chunk[chunk.length - 1] === CR;
      return { data: chunk, replies: new Uint8Array(0) };
    }
    const data: number[] = [];
    const replies: number[] = [];
    for (const byte of chunk) {
      switch (this.state) {
        case 'data':
          if (byte === IAC) this.state = 'iac';
          else if (!(byte === NUL && this.afterCr)) data.push(byte);
          this.afterCr = byte === CR;
          break;
        case 'iac':
          if (byte === IAC) {
            data.push(IAC); // an escaped 0xFF: data (never valid UTF-8, so the line is refused later)
            this.state = 'data';
          } else if (byte === WILL || byte === WONT || byte === DO || byte === DONT) {
            this.verb = byte;
            this.state = 'option';
          } else if (byte === SB) {
            this.state = 'sub';
          } else {
            this.state = 'data'; // NOP, GA, AYT, IP, BRK...: nothing to do for a line-based session
          }
          break;
        case 'option':
          this.answer(this.verb, byte, replies);
          this.state = 'data';
          break;
        case 'sub':
          if (byte === IAC) this.state = 'sub-iac';
          break;
        case 'sub-iac':
          this.state = byte === SE ? 'data' : 'sub';
          break;
      }
    }
    return { data: Uint8Array.from(data), replies: Uint8Array.from(replies) };
  }

  /** DO → WONT, WILL → DONT, once per option and verb; DONT and WONT need no answer (we are off already). */
  private answer(verb: number, option: number, replies: number[]): void {
    if (verb !== DO && verb !== WILL) return;
    const key = verb * 256 + option;
    if (this.refused.has(key)) return;
    this.refused.add(key);
    replies.push(IAC, verb === DO ? WONT : DONT, option);
  }
}
