/**
 * The MySQL/MariaDB storage (`mysql://` or `mariadb://`, driver `mysql2`): token rows, the keeper's
 * due indexes, leases, OAuth states and the webhook inbox in one database, shared by every instance
 * of an app. Runs on MariaDB 10.11+ and MySQL 8.0+. Migrated on open under `GET_LOCK`; every other
 * call is one statement on a pooled connection (two on one connection for a lease, up to three for a
 * duplicate webhook, a short transaction to take an OAuth state or claim webhooks), with nothing left
 * in the session between calls. See docs/guides/storage-mysql.md.
 */

import { runMigrations } from '../migrations.ts';
import type { OpenStorageOptions } from '../open.ts';
import type { TokenStorage } from '../types.ts';
import { connect, type ImportDriver, importMysql2 } from './connection.ts';
import { dueRows } from './due.ts';
import { mysqlLeases } from './leases.ts';
import { MYSQL_MIGRATIONS, migrationTarget } from './migrations.ts';
import { tokenRows } from './rows.ts';
import { mysqlStates } from './states.ts';
import { parseMysqlUrl } from './url.ts';
import { mysqlWebhooks } from './webhooks.ts';

export { MYSQL_MIGRATIONS, MYSQL_SCHEMA_VERSION } from './migrations.ts';

/** Options of {@link openMysqlStorage}. */
export interface MysqlStorageOptions extends OpenStorageOptions {
  /**
   * @internal How the `mysql2/promise` module is loaded (`import('mysql2/promise')`); tests replace
   * it to prove the message given when the driver is not installed.
   */
  importDriver?: ImportDriver;
}

/**
 * Opens the MySQL or MariaDB database `url` names and brings its schema up to date. Throws
 * ConfigError for a malformed URL or a missing `mysql2` package (never quoting the URL),
 * ERR_STORAGE (retryable when it may pass later) when the database cannot be reached or migrated.
 *
 * URL parameters: `pool` (connections, default 10), `connect_timeout` (seconds, default 5), `ssl`
 * (`true`, or a JSON object of mysql2's TLS options) and `sslca` (a PEM file to verify the server with).
 *
 * @example
 * const storage = await openMysqlStorage('mysql://app:secret@db.internal:3306/shop?pool=5');
 */
export async function openMysqlStorage(url: string, options: MysqlStorageOptions = {}): Promise<TokenStorage> {
  const settings = parseMysqlUrl(url);
  const db = await connect(settings, options.importDriver ?? importMysql2);
  try {
    const report = await runMigrations(migrationTarget(db), MYSQL_MIGRATIONS);
    options.onMigrated?.(report);
  } catch (error) {
    // Nothing is left open behind a failed open (a callback that threw included).
    await db.close();
    throw error;
  }

  const rows = tokenRows(db);
  return {
    name: 'mysql',
    get: (key) => rows.get(key),
    getMany: (keys) => rows.getMany(keys),
    put: (row) => rows.put(row),
    swap: (key, expected, next) => rows.swap(key, expected, next),
    markInstalled: (app, shop, at) => rows.markInstalled(app, shop, at),
    deleteOnline: (app, shop, userId) => rows.deleteOnline(app, shop, userId),
    deleteShop: (app, shop) => rows.deleteShop(app, shop),
    list: (query) => rows.list(query),
    due: (index, query) => dueRows(db, index, query),
    leases: mysqlLeases(db),
    states: mysqlStates(db),
    webhooks: mysqlWebhooks(db),
    close: () => db.close(),
  };
}
