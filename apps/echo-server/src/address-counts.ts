/** Open connections per remote address, for the per-address limit. */
export class AddressCounts {
  private readonly counts = new Map<string, number>();

  /** Connections open now from `address`. */
  get(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  /** Counts one more connection from `address`; the function returned counts it out again (once). */
  add(address: string): () => void {
    this.counts.set(address, this.get(address) + 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const left = this.get(address) - 1;
      // Addresses with nothing open are forgotten, so the map cannot grow without bound.
      if (left > 0) this.counts.set(address, left);
      else this.counts.delete(address);
    };
  }

  /** Addresses with at least one connection open. */
  get size(): number {
    return this.counts.size;
  }
}
