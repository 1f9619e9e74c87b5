/**
 * One run per key at a time in this process: a caller asking for a key already running gets the
 * same promise. It sits in front of the cross-process leases (see lease.ts), so the callers of one
 * process share one lease, one request to Shopify and one answer.
 */

/** Concurrent runs for one key, shared. */
export class SingleFlight<K, V> {
  readonly #running = new Map<K, Promise<V>>();

  /**
   * The running promise for `key`, or `start()`'s, shared until it settles.
   *
   * @example
   * const flights = new SingleFlight<string, Token>();
   * const token = await flights.run(shop, () => refresh(shop));
   */
  run(key: K, start: () => Promise<V>): Promise<V> {
    const running = this.#running.get(key);
    if (running) return running;
    const run = start().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
    return run;
  }

  /** How many keys are running (for tests and metrics). */
  get size(): number {
    return this.#running.size;
  }
}
