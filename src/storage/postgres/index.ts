/**
 * The PostgreSQL storage (`postgres://` or `postgresql://`, driver `pg`): token rows, the keeper's
 * due indexes, leases, OAuth states and the webhook inbox in one schema of one database, shared by
 * every instance of an app. Migrated on open under a transaction-scoped advisory lock; every call is
 * one statement on a pooled connection, with nothing kept in the session, so it also runs behind
 * PgBouncer in transaction mode. See docs/guides/storage-postgres.md.
 */

import { runMigrations } from '../migrations.ts';
import type { OpenStorageOptions } from '../open.ts';
import { checkLimit } from '../row-codec.ts';
import type { TokenStorage } from '../types.ts';
import { connect, type ImportDriver, importPg } from './connection.ts';
import { dueRows } from './due.ts';
import { postgresLeases } from './leases.ts';
import { migrationTarget, postgresMigrations } from './migrations.ts';
import { tokenRows } from './rows.ts';
import { postgresStates } from './states.ts';
import { parsePostgresUrl } from './url.ts';
import { postgresWebhooks } from './webhooks.ts';

/** Options of {@link openPostgresStorage}. */
export interface PostgresStorageOptions extends OpenStorageOptions {
  /**
   * @internal How the `pg` module is loaded (`import('pg')`); tests replace it to prove the message
   * given when the driver is not installed.
   */
  importDriver?: ImportDriver;
}

/**
 * Opens the PostgreSQL database `url` names and brings its schema up to date. Throws ConfigError for
 * a malformed URL or a missing `pg` package (never quoting the URL), ERR_STORAGE (retryable when it
 * may pass later) when the database cannot be reached or migrated.
 *
 * URL parameters besides libpq's (`sslmode`, `application_name`, `options`, …, passed to `pg`):
 * `schema` (where the tables live; created when missing; default `public`), `pool` (connections,
 * default 10), `connect_timeout` (seconds to open a connection or wait for a free one; default 5),
 * `query_timeout` (ms one statement may run, migrations excepted; default 30000).
 *
 * @example
 * const storage = await openPostgresStorage('postgres://app:secret@db.internal:5432/shop?schema=shoptoken&pool=5');
 */
export async function openPostgresStorage(url: string, options: PostgresStorageOptions = {}): Promise<TokenStorage> {
  const settings = parsePostgresUrl(url);
  const db = await connect(settings, options.importDriver ?? importPg);
  try {
    const report = await runMigrations(migrationTarget(db), postgresMigrations(db.table));
    options.onMigrated?.(report);
  } catch (error) {
    await db.close();
    throw error;
  }

  const rows = tokenRows(db);
  return {
    name: 'postgres',
    get: (key) => rows.get(key),
    getMany: (keys) => rows.getMany(keys),
    put: (row) => rows.put(row),
    swap: (key, expected, next) => rows.swap(key, expected, next),
    markInstalled: (app, shop, at) => rows.markInstalled(app, shop, at),
    deleteOnline: (app, shop, userId) => rows.deleteOnline(app, shop, userId),
    deleteShop: (app, shop) => rows.deleteShop(app, shop),
    async list(query) {
      return rows.list(query, checkLimit(query.limit));
    },
    async due(index, query) {
      return dueRows(db, index, query, checkLimit(query.limit));
    },
    leases: postgresLeases(db),
    states: postgresStates(db),
    webhooks: postgresWebhooks(db),
    close: () => db.close(),
  };
}
