// Interactive mode in a real terminal (tmux): how Ctrl-C and Ctrl-D leave the terminal and
// which exit code they give.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { builtApp } from './run-built';
import { TerminalSession } from './terminal-session';

const MESSAGE_PROMPT = "Enter message to send (or 'exit' to quit):";
let server: Server;
let port: number;
const open = new Set<Socket>();
let session: TerminalSession | undefined;

beforeAll(async () => {
  server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.pipe(s);
  });
  server.listen({ host: '::1', port: 0 });
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

afterEach(() => {
  session?.kill();
  session = undefined;
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
});

/** Starts the client on ::1 and waits for its first message prompt. */
async function connected(): Promise<TerminalSession> {
  session = new TerminalSession([process.execPath, builtApp('echo-client'), '::1', '--port', String(port)]);
  await session.waitForLine((l) => l.startsWith(MESSAGE_PROMPT), 'the message prompt');
  return session;
}

describe('echo-client interactive', () => {
  it('echoes a typed line, and an empty one', async () => {
    const s = await connected();
    s.type('hello');
    s.press('Enter');
    await s.waitForLine((l) => l === 'Echo from server: hello', 'the echo');
    s.press('Enter');
    const screen = await s.waitForLine((l) => l === 'Echo from server:', 'the empty echo');
    expect(screen.filter((l) => l.startsWith('Echo from server:'))).toEqual(['Echo from server: hello', 'Echo from server:']);
  });

  it('Ctrl-C at the prompt ends the line and exits 130', async () => {
    const s = await connected();
    s.press('C-c');
    const screen = await s.waitForLine((l) => l.includes('[exited'), 'the exit');
    // The prompt stays as it was; the shell's next output starts on a line of its own.
    expect(screen.slice(-2)).toEqual([MESSAGE_PROMPT, '[exited 130]']);
  });

  it('Ctrl-D at the prompt ends the line and exits 0', async () => {
    const s = await connected();
    s.press('C-d');
    const screen = await s.waitForLine((l) => l.includes('[exited'), 'the exit');
    expect(screen.slice(-2)).toEqual([MESSAGE_PROMPT, '[exited 0]']);
  });

  it('Ctrl-C at the address prompt exits 130', async () => {
    session = new TerminalSession([process.execPath, builtApp('echo-client'), '--port', String(port)]);
    await session.waitForLine((l) => l.startsWith('Enter the server address'), 'the address prompt');
    session.press('C-c');
    const screen = await session.waitForLine((l) => l.includes('[exited'), 'the exit');
    expect(screen.slice(-1)).toEqual(['[exited 130]']);
    expect(screen.at(-2)).toMatch(/^Enter the server address/);
  });
});
