// The web editor in a real headless browser (Debian's chromium, driven by playwright-core),
// against the built server, together with TCP clients: a protocol client standing in for the
// terminal editor (presence with a cursor, as the terminal editor sends it) and the built
// collab-client in line mode. A screenshot of the page is kept as tmp/web-editor.png.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { CollabSession } from '@collab/collab-protocol';
import { waitFor } from '@collab/testing';
import { built, root, startBuiltServer, stopBuiltServers, type BuiltServer } from './built-server';

/** Where `command -v chromium` finds Debian's chromium, if it is installed. */
function findChromium(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const chromiumPath = findChromium();
const MISSING = 'chromium is not installed (apt-get install chromium; .ci/run installs it)';
if (!chromiumPath) console.warn(`collab-web browser tests skipped: ${MISSING}`);
const describeInBrowser = chromiumPath ? describe : describe.skip;

/** How long a hook may take: starting the browser or the server, stopping them. */
const HOOK_TIMEOUT_MS = 60_000;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface WebPage {
  page: Page;
  /** Errors the page threw or logged (a crashed CodeMirror plugin logs one). */
  problems: string[];
  text(): Promise<string>;
  status(): Promise<string>;
}

describeInBrowser(`the web editor in a real browser${chromiumPath ? '' : ` (skipped: ${MISSING})`}`, () => {
  let browser: Browser;
  /** The launch, kept: closed at the end even when it finished after its hook gave up. */
  let launching: Promise<Browser> | undefined;
  let server: BuiltServer;
  const sessions: CollabSession[] = [];
  const awarenesses: Awareness[] = [];

  // Starting chromium takes a second or two, and many more on a busy machine: with Jest's 5 s for
  // a hook, a launch that outlived its hook left the browser running and Jest waiting on it for ever.
  beforeAll(async () => {
    // playwright-core starts it with a fresh profile (user data directory) of its own.
    launching = chromium.launch({ executablePath: chromiumPath, args: ARGS });
    browser = await launching;
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await (await launching?.catch(() => undefined))?.close();
  }, HOOK_TIMEOUT_MS);
  beforeEach(async () => {
    server = await startBuiltServer(['--host', '127.0.0.1']);
  }, HOOK_TIMEOUT_MS);
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    for (const a of awarenesses.splice(0)) a.destroy();
    await stopBuiltServers();
  }, HOOK_TIMEOUT_MS);

  /** A page in a fresh browser context (its own localStorage), with the name field preset to `name`. */
  async function openPage(name: string, path = '/temp'): Promise<WebPage> {
    const context = await browser.newContext({ viewport: { width: 960, height: 540 } });
    // Runs in the page (no DOM types here): the name field starts with `name`.
    await context.addInitScript(
      (n) =>
        (globalThis as unknown as { localStorage: { setItem(key: string, value: string): void } }).localStorage.setItem('collab-name', n),
      name,
    );
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    await page.goto(`http://127.0.0.1:${server.wsPort}${path}`);
    await page.locator('#status .connected').waitFor();
    expect(problems).toEqual([]);
    return {
      page,
      problems,
      text: () => page.evaluate(() => (globalThis as unknown as { collab: { text: { toString(): string } } }).collab.text.toString()),
      status: () => page.locator('#status').innerText(),
    };
  }

  /** A TCP client as the terminal editor is one: HELLO, presence with a name, colour and cursor. */
  async function tcpClient(name: string): Promise<{ doc: Y.Doc; session: CollabSession; awareness: Awareness }> {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    await once(socket, 'connect');
    const doc = new Y.Doc();
    const awareness = new Awareness(doc);
    awarenesses.push(awareness);
    const session = new CollabSession(socket, { document: 'temp', clientName: name, doc, awareness });
    sessions.push(session);
    await session.whenSynced();
    const text = doc.getText('content');
    const cursor = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, 0, -1));
    awareness.setLocalState({ user: { name, color: '#98c379' }, cursor: { anchor: cursor, head: cursor } });
    return { doc, session, awareness };
  }

  it('two pages, a terminal-editor client and a line-mode client type at once and converge; each sees the others', async () => {
    const ann = await openPage('ann');
    const bob = await openPage('bob');
    const cat = await tcpClient('cat');
    const catText = cat.doc.getText('content');
    const line = spawn(process.execPath, [built('collab-client'), '--lines', '--port', String(server.port), '--name', 'dan'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COLLAB_'))),
    });
    let lineOut = '';
    line.stdout!.on('data', (d: Buffer) => (lineOut += d.toString()));
    await waitFor(() => lineOut.includes('Start typing'), 'the line-mode client');

    // All at once: two browsers typing, the TCP client inserting at the start, lines appended.
    const catTyping = (async () => {
      for (const ch of 'cat was here. ') {
        catText.insert(0, ch);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const danTyping = (async () => {
      for (const l of ['dan line one', 'dan line two']) {
        line.stdin!.write(`${l}\n`);
        await new Promise((r) => setTimeout(r, 60));
      }
    })();
    await Promise.all([
      ann.page.keyboard.type('Ann types in the browser. ', { delay: 8 }),
      bob.page.keyboard.type('Bob types too! ', { delay: 11 }),
      catTyping,
      danTyping,
    ]);
    line.stdin!.end();
    expect((await once(line, 'exit'))[0]).toBe(0);

    // Everyone typed at the same time, at their own cursors: each person's characters are in the
    // text in the order they typed them (cat typed each at the start: reversed), the lines whole.
    const typed = { ann: 'Ann types in the browser. ', bob: 'Bob types too! ', cat: [...'cat was here. '].reverse().join('') };
    const lines = ['dan line one', 'dan line two'];
    // Line mode puts each line on a line of its own: it may add a newline before it as well as after.
    const chars = (text: string) => text.replace(/\n/g, '').length;
    const total = chars(Object.values(typed).join('') + lines.join(''));
    let texts: string[] = [];
    for (let i = 0; i < 200; i++) {
      texts = [await ann.text(), await bob.text(), catText.toString()];
      if (texts.every((t) => t === texts[0]) && chars(texts[0]!) === total) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
    expect(chars(texts[0]!)).toBe(total);
    const inOrder = (text: string, chars: string) => {
      let at = 0;
      for (const ch of chars) {
        at = text.indexOf(ch, at);
        if (at < 0) return false;
        at++;
      }
      return true;
    };
    for (const [who, chars] of Object.entries(typed)) expect([who, inOrder(texts[0]!, chars)]).toEqual([who, true]);
    for (const l of lines) expect(texts[0]).toContain(l);

    // Presence across transports: the pages list everyone with a presence, and draw the others' cursors with their names.
    await ann.page.locator('#status .person', { hasText: 'cat' }).waitFor();
    await ann.page.locator('#status .person', { hasText: 'bob' }).waitFor();
    expect(await ann.status()).toMatch(/3 here: ann \(you\), bob, cat/);
    await ann.page.locator('.cm-ySelectionInfo', { hasText: 'cat' }).waitFor();
    await ann.page.locator('.cm-ySelectionInfo', { hasText: 'bob' }).waitFor();
    const names = () => [...cat.awareness.getStates().values()].map((s) => (s as { user?: { name?: string } }).user?.name);
    await waitFor(() => names().includes('ann') && names().includes('bob'), 'the browser users on TCP');

    // "saved" only once the server has stored every edit of the page.
    await ann.page.locator('#status .saved').waitFor();
    await bob.page.locator('#status .saved').waitFor();
    expect([...ann.problems, ...bob.problems]).toEqual([]);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    await ann.page.screenshot({ path: join(root, 'tmp', 'web-editor.png') });

    await cat.session.whenSaved();
    await server.stop();
    expect(readFileSync(join(server.dataDir, 'temp.txt'), 'utf8')).toBe(texts[0]);
  }, 60_000);

  it("undoes only one's own edits (Ctrl-Z), and says which document it shows", async () => {
    const ann = await openPage('ann', '/notes');
    expect(await ann.page.locator('#document').innerText()).toBe('notes');
    expect(await ann.page.title()).toBe('notes · collab');
    expect(await ann.page.locator('#name').inputValue()).toBe('ann');
    const bob = await openPage('bob', '/notes');
    await ann.page.keyboard.type('mine ');
    for (let i = 0; i < 100 && (await bob.text()) !== 'mine '; i++) await new Promise((r) => setTimeout(r, 20));
    await bob.page.keyboard.press('End');
    await bob.page.keyboard.type('theirs');
    for (let i = 0; i < 100 && (await ann.text()) !== 'mine theirs'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await ann.text()).toBe('mine theirs');
    await ann.page.keyboard.press('Control+z');
    for (let i = 0; i < 100 && (await bob.text()) !== 'theirs'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await bob.text()).toBe('theirs');
    expect(await ann.text()).toBe('theirs');
    expect([...ann.problems, ...bob.problems]).toEqual([]);
  }, 30_000);
});
