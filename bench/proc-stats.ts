// What Linux's /proc says of a process the benches started: its CPU time and its memory. A
// process that has gone reads as 0.

import { readFileSync } from 'node:fs';

/** User + system CPU seconds of a process (Linux clock ticks are 1/100 s). */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** A memory figure of /proc/PID/status, in KiB: VmRSS (now) or VmHWM (peak). */
export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
