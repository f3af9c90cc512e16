/**
 * Calls `stop` once, on the first SIGINT or SIGTERM (PM2 sends SIGINT, then SIGKILL after
 * kill_timeout); later signals are ignored while the graceful stop runs.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
