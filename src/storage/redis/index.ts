/**
 * The Redis storage (`redis://`, `rediss://`; driver `ioredis`, an optional peer dependency loaded
 * when such a URL is opened). Rows are hashes under a hash tag per (app, shop), indexes are lex
 * sorted sets per app, leases and OAuth states are keys with Redis's own expiry, and the webhook
 * inbox is hashes and sorted sets per app (webhooks.ts); every multi-key step is a Lua script
 * within one hash tag, so the layout also fits Redis Cluster. See docs/guides/storage-redis.md.
 */

import { ShoptokenError } from '../../errors.ts';
import { type Migration, type MigrationReport, runMigrations } from '../migrations.ts';
import type { OpenStorageOptions } from '../open.ts';
import type { TokenStorage } from '../types.ts';
import type { DriverImport } from './client.ts';
import { connectRedis } from './connection.ts';
import { dueRows } from './due.ts';
import { redisKeys } from './keys.ts';
import { redisLeases } from './leases.ts';
import { listRows } from './list.ts';
import { REDIS_MIGRATIONS, redisMigrationTarget } from './migrations.ts';
import { deleteOnline, deleteShop, getRow, markInstalled, swapRow, writeRow } from './rows.ts';
import { redisStates } from './states.ts';
import { parseRedisUrl } from './url.ts';
import { redisWebhooks } from './webhooks.ts';

/** Options of {@link openRedisStorage}. */
export interface RedisStorageOptions extends OpenStorageOptions {
  /** @internal Loads the driver (tests prove the missing-driver message with it). */
  importDriver?: DriverImport;
  /** @internal The layouts to migrate to (tests add versions). */
  migrations?: readonly Migration[];
}

/**
 * Opens the Redis storage `url` names, bringing its key layout up to date. Throws ConfigError for a
 * malformed URL or a missing driver, ERR_STORAGE when the server cannot be reached; never quotes
 * the URL.
 *
 * @example
 * const storage = await openRedisStorage('redis://127.0.0.1:6379/0?prefix=shoptoken');
 */
export async function openRedisStorage(url: string, options: RedisStorageOptions = {}): Promise<TokenStorage> {
  const location = parseRedisUrl(url);
  const connection = await connectRedis(location, options.importDriver);
  const keys = redisKeys(location.prefix);
  let report: MigrationReport;
  try {
    report = await runMigrations(redisMigrationTarget(connection, keys), options.migrations ?? REDIS_MIGRATIONS);
  } catch (error) {
    await connection.close();
    if (error instanceof ShoptokenError) throw error;
    throw new ShoptokenError('ERR_STORAGE', 'redis storage could not migrate its key layout', { cause: error });
  }
  try {
    options.onMigrated?.(report);
  } catch (error) {
    await connection.close();
    throw error;
  }
  const run = connection.run;
  return {
    name: 'redis',
    get: (key) => run('read a token row', () => getRow(connection, keys, key), true),
    put: (row) => run('write a token row', async () => void (await writeRow(connection, keys, row))),
    swap: (key, expected, next) =>
      run('compare-and-set a token row', () => swapRow(connection, keys, key, expected, next)),
    markInstalled: (app, shop, at) =>
      run('mark an install', () => markInstalled(connection, keys, app, shop, at), true),
    deleteOnline: (app, shop, userId) =>
      run('delete an online row', () => deleteOnline(connection, keys, app, shop, userId)),
    deleteShop: (app, shop) => run("delete a shop's rows", () => deleteShop(connection, keys, app, shop)),
    list: (query) => run('list token rows', () => listRows(connection, keys, query), true),
    due: (index, query) => run('scan due rows', () => dueRows(connection, keys, index, query), true),
    leases: redisLeases(connection, keys),
    states: redisStates(connection, keys),
    webhooks: redisWebhooks(connection, keys),
    close: () => connection.close(),
  };
}
