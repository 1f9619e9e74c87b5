/**
 * Leases held in this process's memory: enough when one process uses the store (memory storage,
 * tests), and the reference behaviour for the backends' leases.
 */

import type { LeaseStore } from '../storage/types.ts';

/**
 * A {@link LeaseStore} in memory, on `now` (epoch ms; `Date.now` by default).
 *
 * @example
 * const leases = createMemoryLeases();
 * if (await leases.acquire('refresh:cool-shop.myshopify.com', owner, 30_000)) { … }
 */
export function createMemoryLeases(now: () => number = Date.now): LeaseStore {
  const held = new Map<string, { owner: string; until: number }>();
  const live = (key: string) => {
    const lease = held.get(key);
    if (lease && lease.until <= now()) {
      held.delete(key);
      return undefined;
    }
    return lease;
  };
  return {
    async acquire(key, owner, ttlMs) {
      const lease = live(key);
      if (lease && lease.owner !== owner) return false;
      held.set(key, { owner, until: now() + ttlMs });
      return true;
    },
    async extend(key, owner, ttlMs) {
      const lease = live(key);
      if (lease?.owner !== owner) return false;
      lease.until = now() + ttlMs;
      return true;
    },
    async release(key, owner) {
      const lease = live(key);
      if (lease?.owner !== owner) return false;
      held.delete(key);
      return true;
    },
  };
}
