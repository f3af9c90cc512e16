// Whether every edit made here is stored on the server's disk. The server acknowledges (ACK n)
// that the first n document-changing messages of a connection (sync step 2 and updates) are
// stored; each such message carries every local edit made before it was sent (an update is sent
// as it is made, and the step 2 that answers the server's step 1 after a reconnect holds all the
// server lacks). So the tracker notes, for each message sent on the current connection, how many
// local edits had been made by then, and an ACK marks that many as saved.

/** Counts local edits, the changing messages sent on the current connection, and what the server acknowledged. */
export class SaveTracker {
  private localEdits = 0;
  private savedEdits = 0;
  /** For the i-th changing message of the current connection (0-based): the local edits made before it. */
  private sent: number[] = [];
  private readonly listeners = new Set<() => void>();

  /** Whether every local edit is stored on the server. */
  get saved(): boolean {
    return this.savedEdits >= this.localEdits;
  }

  /** Local edits not yet known to be stored. */
  get unsaved(): number {
    return this.localEdits - this.savedEdits;
  }

  /** A local edit was made (call before it is sent). */
  localEdit(): void {
    this.localEdits++;
    this.notify();
  }

  /** A new connection: its messages are counted from 1 again. */
  newConnection(): void {
    this.sent = [];
  }

  /** A changing message went out on the current connection. */
  changeSent(): void {
    this.sent.push(this.localEdits);
  }

  /** ACK n arrived on the current connection. */
  acknowledged(count: number): void {
    const covered = this.sent[Math.min(count, this.sent.length) - 1];
    if (covered === undefined || covered <= this.savedEdits) return;
    this.savedEdits = covered;
    this.notify();
  }

  /** Calls `listener` whenever `saved` or `unsaved` may have changed; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
