/**
 * One token job per shop at a time across every process sharing the store. In this process a
 * single flight shares one run among callers; across processes the store's lease
 * (`refresh:{app}:{shop}`, `credentials:…`, `migration:…`, `install:…`, `grant:…`) lets one holder call
 * Shopify while the others wait — never calling Shopify themselves — and re-check the stored row
 * until the holder's write lands (they then return it) or the lease is free again (they take it).
 * A holder that dies stops its heartbeat; its lease expires and the next one takes over, recovering
 * through the retry-the-previous-refresh-token rule: nothing is lost, and the writes are
 * compare-and-sets, so a holder that lost its lease (a paused process) cannot overwrite a newer pair.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { takeLease } from '../coordination/lease.ts';
import { SingleFlight } from '../coordination/single-flight.ts';
import { ShoptokenError } from '../errors.ts';
import type { LeaseStore } from '../storage/types.ts';

/** The jobs that take a lease per shop. */
export type ShopJob = 'refresh' | 'credentials' | 'migration' | 'install' | 'grant';

/** How the coordination is timed. */
export interface CoordinationOptions {
  /** How long a lease lasts without its holder's heartbeat (every third of it); 30 s by default. */
  leaseTtlMs?: number;
  /** How long a caller waits for another process's holder before giving up (retryable); 60 s by default. */
  waitMs?: number;
}

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 500;

/** Coordinates one app's shop jobs over a store's leases. */
export class ShopCoordinator {
  readonly #leases: LeaseStore;
  readonly #app: string;
  readonly #ttlMs: number;
  readonly #waitMs: number;
  readonly #flights = new Map<ShopJob, SingleFlight<string, unknown>>();

  constructor(leases: LeaseStore, app: string, options: CoordinationOptions = {}) {
    this.#leases = leases;
    this.#app = app;
    this.#ttlMs = options.leaseTtlMs ?? 30_000;
    this.#waitMs = options.waitMs ?? 60_000;
  }

  /**
   * Runs `work` for `shop` as the only holder of `job` in every process, or returns what another
   * holder produced: while another process holds the lease, `settled()` is asked after each wait,
   * and its non-null answer ends the wait (for a refresh: the stored token is fresh again). `work`
   * must re-read what it works on. Concurrent calls in this process share one run.
   *
   * @example
   * const fresh = await coordinator.run('refresh', shop, () => refreshNow(shop), () => freshOrNull(shop));
   */
  run<T>(job: ShopJob, shop: string, work: () => Promise<T>, settled: () => Promise<T | null>): Promise<T> {
    let flights = this.#flights.get(job);
    if (!flights) {
      flights = new SingleFlight<string, unknown>();
      this.#flights.set(job, flights);
    }
    return flights.run(shop, () => this.#exclusive(job, shop, work, settled)) as Promise<T>;
  }

  /**
   * Runs `work` for `shop` as the only holder of `job` in every process, this one included, once
   * every earlier holder is done; never shares a run (each caller's work is its own, e.g. the
   * exchange of its own authorization code).
   *
   * @example
   * const saved = await coordinator.serialize('grant', shop, () => exchangeAndSave(code));
   */
  serialize<T>(job: ShopJob, shop: string, work: () => Promise<T>): Promise<T> {
    return this.#exclusive(job, shop, work, async () => null);
  }

  async #exclusive<T>(
    job: ShopJob,
    shop: string,
    work: () => Promise<T>,
    settled: () => Promise<T | null>,
  ): Promise<T> {
    const key = `${job}:${this.#app}:${shop}`;
    const deadline = Date.now() + this.#waitMs;
    let pause = FIRST_POLL_MS;
    for (let waited = false; ; waited = true) {
      // After a wait, what the other holder did; before the first try `work` re-reads anyway.
      if (waited) {
        const done = await settled();
        if (done !== null) return done;
      }
      const lease = await takeLease(this.#leases, key, { ttlMs: this.#ttlMs });
      if (lease) {
        try {
          return await work();
        } finally {
          await lease.release();
        }
      }
      if (Date.now() >= deadline) {
        throw new ShoptokenError(
          'ERR_STORAGE',
          `another instance has held the ${job} of ${shop} for over ${Math.round(this.#waitMs / 1000)} s; try again`,
          { retryable: true },
        );
      }
      // Real time: the other holder works in real time, whatever clock the vault is given.
      await sleep(pause);
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
  }
}
