// The core's logger in a fuzz run: every line is built (as at debug level, so the code that
// builds log lines from client input runs), none is written, and [ERROR] and [WARN] lines are
// kept. The core logs an exception it caught while handling a client's message as an [ERROR]
// line, and in a fuzz run no [ERROR] is expected at all: each one is a finding.
import type { Logger } from '@collab/logging';

/** Keeps at most this many [WARN] lines (the oldest go first). */
const MAX_WARNINGS = 1000;

/** A Logger that records [ERROR] and [WARN] lines. */
export class RecordingLogger implements Logger {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(message: string): void {
    this.errors.push(message);
  }

  warn(message: string): void {
    if (this.warnings.length >= MAX_WARNINGS) this.warnings.shift();
    this.warnings.push(message);
  }

  info(): void {}

  update(): void {}

  debug(): void {}

  isEnabled(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
