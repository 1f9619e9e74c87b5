/**
 * Versioned changes of the Redis key layout, run on open by the shared runner. The applied version
 * is the string `<prefix>:schema`; the exclusive lock is a lease on `<prefix>:migrate:lock`, kept
 * alive while a migration runs, so instances opening one prefix at once apply each version once.
 * A statement is a Lua script run with `ARGV[1]` = the prefix and no declared key, on one node (in a
 * cluster, any one): a layout change that touches keys of many slots needs more than statements.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { takeLease } from '../../coordination/lease.ts';
import { ShoptokenError } from '../../errors.ts';
import type { Migration, MigrationTarget } from '../migrations.ts';
import type { RedisConnection } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { redisLeases } from './leases.ts';

/** The Redis layouts, oldest first. */
export const REDIS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'key layout 1: rows as hashes per (app, shop) hash tag, per-app list and due indexes, apps, leases, OAuth states',
    // Every key of this layout is created by the first write that needs it.
    statements: [],
  },
];

/** How long one instance waits for another's migration before giving up. */
const LOCK_WAIT_MS = 60_000;
const LOCK_TTL_MS = 30_000;

/**
 * The runner's view of a Redis storage.
 *
 * @example
 * const report = await runMigrations(redisMigrationTarget(connection, keys), REDIS_MIGRATIONS);
 */
export function redisMigrationTarget(connection: RedisConnection, keys: RedisKeys): MigrationTarget {
  const leases = redisLeases(connection, keys, () => keys.migrationLock);
  return {
    async exclusive(fn) {
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
        const lease = await takeLease(leases, keys.migrationLock, { ttlMs: LOCK_TTL_MS });
        if (lease) {
          try {
            return await fn();
          } finally {
            await lease.release();
          }
        }
        if (Date.now() > deadline) {
          throw new ShoptokenError('ERR_STORAGE', 'redis storage could not take the migration lock (held too long)', {
            retryable: true,
          });
        }
        await sleep(wait + Math.floor(Math.random() * wait));
      }
    },
    async appliedVersion() {
      const stored = await connection.run('read the schema version', () => connection.call('GET', keys.schema));
      if (stored === null) return 0;
      const version = Number(stored);
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new ShoptokenError('ERR_STORAGE', 'redis storage has an invalid schema version');
      }
      return version;
    },
    async apply(migration) {
      await connection.run(`apply migration ${migration.version}`, async () => {
        for (const statement of migration.statements) await connection.call('EVAL', statement, 0, keys.prefix);
        await connection.call('SET', keys.schema, String(migration.version));
      });
    },
  };
}
