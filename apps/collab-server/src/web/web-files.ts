// The built web editor (dist/apps/collab-web: index.html and its assets), read into memory once
// at start: requests never touch the file system, so no path a client sends can reach a file
// outside it, and a rebuild while the server runs does not hand a page half of two builds.

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/** One file as it is served. */
export interface WebFile {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The editor page and its assets, by name (`index.html`, `editor.js`, ...). */
export class WebFiles {
  private constructor(
    private readonly files: ReadonlyMap<string, WebFile>,
    /** Where they were read from. */
    readonly root: string,
  ) {}

  /** Reads every file of `root` with a known type; undefined when `root` holds no index.html (not built). */
  static load(root: string): WebFiles | undefined {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return undefined;
    }
    if (!names.includes('index.html')) return undefined;
    const files = new Map<string, WebFile>();
    for (const name of names) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) files.set(name, { body: readFileSync(join(root, name)), contentType });
    }
    return new WebFiles(files, root);
  }

  /** The page every document name is served. */
  get page(): WebFile {
    return this.files.get('index.html')!;
  }

  /** An asset by its file name, if there is one. */
  asset(name: string): WebFile | undefined {
    return name === 'index.html' ? undefined : this.files.get(name);
  }
}
