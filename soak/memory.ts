// Samples a server process's resident set size (VmRSS of /proc/PID/status) once a second. The
// pid changes when PM2 restarts the server; the sampler is told the new one. Kept per process:
// its first sample after warm-up ("start"), its peak, and its latest sample.
import { readFileSync } from 'node:fs';

/** VmRSS of a process in bytes, or undefined when it is gone (or /proc is not there). */
export function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessMemory {
  pid: number;
  /** When the sampler first saw this process (ms since epoch). */
  since: number;
  /** First sample taken at least warmUpMs after `since`. */
  startRss?: number;
  peakRss: number;
  lastRss?: number;
}

export class RssSampler {
  readonly processes: ProcessMemory[] = [];
  private timer: NodeJS.Timeout | undefined;
  private current: ProcessMemory | undefined;

  constructor(private readonly warmUpMs = 5000) {}

  /** Samples `pid` from now on (a new process after a restart). */
  follow(pid: number): void {
    if (this.current?.pid === pid) return;
    this.current = { pid, since: Date.now(), peakRss: 0 };
    this.processes.push(this.current);
    this.sample();
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now; returns it (undefined when the process is gone). */
  sample(): number | undefined {
    const p = this.current;
    if (!p) return undefined;
    const rss = readRss(p.pid);
    if (rss === undefined) return undefined;
    p.lastRss = rss;
    p.peakRss = Math.max(p.peakRss, rss);
    if (p.startRss === undefined && Date.now() - p.since >= this.warmUpMs) p.startRss = rss;
    return rss;
  }

  /** The process being followed. */
  get latest(): ProcessMemory | undefined {
    return this.current;
  }

  /** Peak over every process followed. */
  get peakRss(): number {
    return Math.max(0, ...this.processes.map((p) => p.peakRss));
  }
}

export function mib(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
