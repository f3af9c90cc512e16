// The page a browser gets instead of the editor when the server has a token and the address
// bar does not carry the right one: a browser cannot read why a WebSocket upgrade was refused,
// so the page itself says it, and asks for the token (sent back as ?token=, as the editor sends it).

import type { TokenCheck } from '@collab/collab-core';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The HTML of the token form for document `name`, saying why the last try was refused. */
export function tokenPage(name: string, check: Extract<TokenCheck, { ok: false }>): string {
  const why = check.reason === 'missing' ? 'This server needs a token.' : check.reason === 'wrong' ? 'That token is wrong.' : check.message;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(name)} · token needed</title>
<link rel="icon" href="/assets/favicon.svg"><link rel="stylesheet" href="/assets/editor.css"></head>
<body class="token-page">
<main>
<h1>${escapeHtml(name)}</h1>
<p>${escapeHtml(why)}</p>
<form method="get" action="/${encodeURIComponent(name)}">
<label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Open</button>
</form>
</main>
</body>
</html>
`;
}
