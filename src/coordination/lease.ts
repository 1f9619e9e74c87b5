/**
 * Holding a lease while work runs: take it (or learn that another holder has it), keep it alive
 * with a heartbeat while the work runs longer than a fraction of its time, and release it — in
 * every case, also when the work throws. A holder that dies simply stops extending: its lease runs
 * out and the next one takes over. Work done under a lease must still be safe if the lease is lost
 * (a stalled process, a paused VM): the vault's writes are compare-and-sets, so a late writer loses.
 */

import { randomUUID } from 'node:crypto';
import type { LeaseStore } from '../storage/types.ts';

/** How a lease is held. */
export interface LeaseOptions {
  /** How long the lease lasts without a heartbeat; renewed every third of it while held. */
  ttlMs: number;
  /** Schedules the heartbeat; `setInterval` (unref'd) by default. */
  every?: (run: () => void, ms: number) => { cancel(): void };
}

/** A lease this process holds. */
export interface HeldLease {
  readonly key: string;
  readonly owner: string;
  /** False once a heartbeat found the lease taken by another holder (it had expired). */
  readonly held: boolean;
  /** Stops the heartbeat and releases the lease; never rejects. */
  release(): Promise<void>;
}

const defaultEvery = (run: () => void, ms: number) => {
  const timer = setInterval(run, ms);
  timer.unref();
  return { cancel: () => clearInterval(timer) };
};

/**
 * Takes `key` now if it is free; `null` when another holder has it. The returned lease keeps itself
 * alive until released.
 *
 * @example
 * const lease = await takeLease(storage.leases, `refresh:${app}:${shop}`, { ttlMs: 30_000 });
 * if (lease) try { await refresh() } finally { await lease.release() }
 */
export async function takeLease(leases: LeaseStore, key: string, options: LeaseOptions): Promise<HeldLease | null> {
  const owner = randomUUID();
  if (!(await leases.acquire(key, owner, options.ttlMs))) return null;
  let held = true;
  let beating = false;
  const heartbeat = (options.every ?? defaultEvery)(
    () => {
      if (beating || !held) return;
      beating = true;
      leases.extend(key, owner, options.ttlMs).then(
        (kept) => {
          beating = false;
          if (!kept) held = false;
        },
        () => {
          // A store that cannot be reached now: the next beat tries again; the lease may expire meanwhile.
          beating = false;
        },
      );
    },
    Math.max(1, Math.floor(options.ttlMs / 3)),
  );
  return {
    key,
    owner,
    get held() {
      return held;
    },
    async release() {
      heartbeat.cancel();
      if (!held) return;
      held = false;
      await leases.release(key, owner).catch(() => undefined);
    },
  };
}

/**
 * Runs `fn` holding `key`, or returns `{ ran: false }` at once when another holder has it.
 *
 * @example
 * const result = await withLeaseIfFree(storage.leases, `keeper:${app}:${shop}`, () => renew(shop), { ttlMs: 60_000 });
 */
export async function withLeaseIfFree<T>(
  leases: LeaseStore,
  key: string,
  fn: () => Promise<T>,
  options: LeaseOptions,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const lease = await takeLease(leases, key, options);
  if (!lease) return { ran: false };
  try {
    return { ran: true, value: await fn() };
  } finally {
    await lease.release();
  }
}
