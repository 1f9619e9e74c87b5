/**
 * Leases on Redis: one string key per lease holding its owner, with Redis's own expiry (`PX`), so
 * instances whose clocks disagree still agree on who holds a lease. Acquire is `SET NX PX` (or, for
 * the holder, an extension) in one script; extend and release compare the owner first, so only
 * the owner can keep or end a lease.
 */

import type { LeaseStore } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { LEASE_ACQUIRE, LEASE_EXTEND, LEASE_RELEASE, runScript, type Script } from './scripts.ts';

function checkLease(key: unknown, owner: unknown, ttlMs?: unknown): void {
  if (typeof key !== 'string' || key === '') throw new TypeError('a lease key must be a non-empty string');
  if (typeof owner !== 'string' || owner === '') throw new TypeError('a lease owner must be a non-empty string');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || (ttlMs as number) < 1)) {
    throw new TypeError('ttlMs must be a positive integer');
  }
}

/**
 * The {@link LeaseStore} of a Redis storage; `keyOf` names the Redis key of a lease (`<prefix>:lease:<key>`).
 *
 * @example
 * const leases = redisLeases(connection, keys);
 * if (await leases.acquire('refresh::cool-shop.myshopify.com', owner, 30_000)) { … }
 */
export function redisLeases(
  connection: RedisConnection,
  keys: RedisKeys,
  keyOf: (key: string) => string = keys.lease,
): LeaseStore {
  // Acquire and extend may run twice (the owner taking or extending its own lease again); release not.
  const run = (action: string, script: Script, key: string, args: (string | number)[]) =>
    connection.run(
      action,
      async () => (await runScript(connection, script, [keyOf(key)], args)) === 1,
      script !== LEASE_RELEASE,
    );
  return {
    async acquire(key, owner, ttlMs) {
      checkLease(key, owner, ttlMs);
      return run('acquire a lease', LEASE_ACQUIRE, key, [owner, ttlMs]);
    },
    async extend(key, owner, ttlMs) {
      checkLease(key, owner, ttlMs);
      return run('extend a lease', LEASE_EXTEND, key, [owner, ttlMs]);
    },
    async release(key, owner) {
      checkLease(key, owner);
      return run('release a lease', LEASE_RELEASE, key, [owner]);
    },
  };
}
