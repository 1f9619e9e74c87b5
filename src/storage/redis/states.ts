/**
 * Pending OAuth states on Redis: `SET` with the caller's `expiresAt` in the value and a generous
 * `PX` so Redis removes forgotten ones; `take` is `GETDEL` (single use, atomic across instances)
 * and then compares `expiresAt` with the caller's `now` — the caller's clock decides expiry, Redis's
 * only cleans up.
 */

import type { StateStorage } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { RedisKeys } from './keys.ts';

/** Redis keeps a state this long past its expiry by our clock, at least (for callers on another clock). */
const CLEANUP_GRACE_MS = 3_600_000;
/** …and never longer than this in all. */
const CLEANUP_MAX_MS = 7 * 86_400_000;

/** How long Redis keeps a state expiring at `expiresAt`. */
export function cleanupAfter(expiresAt: number, now: number = Date.now()): number {
  return Math.min(Math.max(expiresAt - now, 0), CLEANUP_MAX_MS) + CLEANUP_GRACE_MS;
}

function checkState(state: unknown): void {
  if (typeof state !== 'string' || state === '') throw new TypeError('state must be a non-empty string');
}

/**
 * The {@link StateStorage} of a Redis storage.
 *
 * @example
 * await redisStates(connection, keys).save(state, JSON.stringify(record), Date.now() + 600_000);
 */
export function redisStates(connection: RedisConnection, keys: RedisKeys): StateStorage {
  return {
    async save(state, value, expiresAt) {
      checkState(state);
      if (typeof value !== 'string') throw new TypeError('value must be a string');
      if (!Number.isSafeInteger(expiresAt)) throw new TypeError('expiresAt must be an integer');
      await connection.run('save an OAuth state', () =>
        connection.call('SET', keys.state(state), `${expiresAt}:${value}`, 'PX', cleanupAfter(expiresAt)),
      );
    },
    async take(state, now) {
      checkState(state);
      if (typeof now !== 'number' || Number.isNaN(now)) throw new TypeError('now must be a number');
      const stored = await connection.run('take an OAuth state', () => connection.call('GETDEL', keys.state(state)));
      if (typeof stored !== 'string') return null;
      const colon = stored.indexOf(':');
      const expiresAt = Number(stored.slice(0, colon));
      return colon > 0 && expiresAt > now ? stored.slice(colon + 1) : null;
    },
  };
}
