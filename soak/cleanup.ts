// Everything the soak starts (PM2 daemon, server process, tmpfs mount, clients) registers how
// to undo it here; run in reverse order at the end, on an error, and on SIGINT/SIGTERM.
type Cleanup = () => Promise<void> | void;

const cleanups: Array<{ what: string; fn: Cleanup }> = [];

/** Registers a cleanup; the returned function runs it now (and unregisters it). */
export function onCleanup(what: string, fn: Cleanup): () => Promise<void> {
  const entry = { what, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await entry.fn();
  };
}

/** Runs every registered cleanup, newest first; a failing one is reported and the rest still run. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const { what, fn } = cleanups.pop()!;
    try {
      await fn();
    } catch (error) {
      process.stderr.write(`soak: cleanup "${what}" failed: ${(error as Error).message}\n`);
    }
  }
}
