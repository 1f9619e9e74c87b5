/**
 * The connection pool behind the MySQL/MariaDB storage: the `mysql2` driver loaded only when a
 * `mysql://` URL is opened (it is an optional peer dependency), each new connection set up the same
 * way, and one way to run a statement, a few statements on one connection, or a transaction, which
 * refuses calls after `close()` and maps every driver error to `ERR_STORAGE`.
 *
 * Every connection runs with:
 * - the `FOUND_ROWS` client flag: an UPDATE reports the rows it **matched**, not the rows it changed,
 *   so a compare-and-set that writes values equal to the stored ones still says it wrote;
 * - `sql_mode` strict, so a value too long for its column is an error, never silently cut (a cut key
 *   would land on another row), and no mode that changes how statements parse;
 * - `time_zone` UTC, so `UNIX_TIMESTAMP(NOW(3))` (the lease clock) is exact even in a DST change;
 * - `innodb_lock_wait_timeout` from the URL (`lock_timeout`, 10 s), so a row locked by a stuck
 *   client fails the call retryably instead of holding it for InnoDB's default 50 s;
 * - statements sent prepared (`execute`): values travel apart from the SQL text, never in it.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolConnection, PoolOptions, ResultSetHeader } from 'mysql2/promise';
import { ConfigError } from '../../errors.ts';
import type { ColumnValue } from '../row-codec.ts';
import { closedError, ER_LOCK_DEADLOCK, errnoOf, storageError } from './errors.ts';
import type { MysqlSettings } from './url.ts';

/** Loads the `mysql2/promise` module. Injectable for tests. */
export type ImportDriver = () => Promise<unknown>;

/** The real loader: `mysql2` is imported only when a mysql:// URL is opened. */
export const importMysql2: ImportDriver = () => import('mysql2/promise');

export const MISSING_DRIVER =
  'SHOPTOKEN_DATABASE_URL is a mysql:// URL: install the mysql2 package (npm install mysql2)';

/**
 * The database server's clock in epoch milliseconds, as an SQL expression: lease times use it, so
 * instances whose own clocks disagree still agree on when a lease runs out.
 */
export const SERVER_NOW_MS = 'ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000)';

/** What every new connection runs first. */
const sessionSetup = (lockTimeoutS: number): string =>
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00', " +
  `SESSION innodb_lock_wait_timeout = ${Math.trunc(lockTimeoutS)}`;

/** How often a statement (or transaction) the server rolled back as a deadlock victim is run again. */
const DEADLOCK_ATTEMPTS = 4;

/** A statement's rows, by column name. */
export type Row = Record<string, unknown>;

/** Statements on one connection. */
export interface Session {
  /** Runs a prepared statement and returns its rows. */
  rows(sql: string, values?: readonly ColumnValue[]): Promise<Row[]>;
  /** Runs a prepared statement and returns the rows it matched (FOUND_ROWS) or inserted. */
  affected(sql: string, values?: readonly ColumnValue[]): Promise<number>;
  /** Runs a statement that cannot be prepared or needs no values (DDL), as text. */
  run(sql: string): Promise<void>;
}

/** The pool, as the storage's parts use it. */
export interface Db {
  /** One statement (autocommit) on any connection; `action` names it in an error (`read a token row`). */
  rows(action: string, sql: string, values?: readonly ColumnValue[]): Promise<Row[]>;
  /** One statement (autocommit); the rows it matched or inserted. */
  affected(action: string, sql: string, values?: readonly ColumnValue[]): Promise<number>;
  /** Runs `fn` on one connection (autocommit), which no other call uses meanwhile. */
  session<T>(action: string, fn: (session: Session) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(action: string, fn: (session: Session) => Promise<T>): Promise<T>;
  /** Throws ERR_STORAGE once the pool is closed (for a call that needs no statement). */
  assertOpen(): void;
  /** Ends every connection; later calls reject with ERR_STORAGE. Idempotent. */
  close(): Promise<void>;
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

type CreatePool = (options: PoolOptions) => Pool;

/** The driver's `createPool`; a ConfigError naming the package when it is not installed. */
async function loadCreatePool(importDriver: ImportDriver): Promise<CreatePool> {
  let driver: unknown;
  try {
    driver = await importDriver();
  } catch (error) {
    if (isMissingModule(error)) throw new ConfigError([MISSING_DRIVER]);
    throw storageError('load the mysql2 driver', error);
  }
  const module = driver as { createPool?: unknown; default?: { createPool?: unknown } } | null;
  const createPool = module?.createPool ?? module?.default?.createPool;
  if (typeof createPool !== 'function') {
    throw storageError('load the mysql2 driver', new TypeError('mysql2/promise exports no createPool'));
  }
  return createPool as CreatePool;
}

/** Runs `fn` again (after a short random pause) while the server picks it as a deadlock victim. */
async function retryDeadlocks<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (errnoOf(error) !== ER_LOCK_DEADLOCK || attempt >= DEADLOCK_ATTEMPTS) throw error;
      await sleep(5 + Math.random() * 20 * attempt);
    }
  }
}

/** A {@link Session} over one pooled connection (or the pool itself). */
function sessionOf(connection: Pool | PoolConnection): Session {
  return {
    async rows(sql, values = []) {
      const [rows] = await connection.execute(sql, values as ColumnValue[]);
      return rows as Row[];
    },
    async affected(sql, values = []) {
      const [result] = await connection.execute(sql, values as ColumnValue[]);
      return (result as ResultSetHeader).affectedRows;
    },
    async run(sql) {
      await connection.query(sql);
    },
  };
}

/**
 * Opens a pool for `settings` (no connection is made until the first statement).
 *
 * @example
 * const db = await connect(parseMysqlUrl(url), importMysql2);
 * const rows = await db.rows('read a token row', 'SELECT … FROM shoptoken_tokens WHERE app = ? …', [app]);
 */
export async function connect(settings: MysqlSettings, importDriver: ImportDriver = importMysql2): Promise<Db> {
  const createPool = await loadCreatePool(importDriver);
  const pool = createPool({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    ...(settings.ssl ? { ssl: settings.ssl } : {}),
    connectionLimit: settings.pool,
    maxIdle: settings.pool,
    idleTimeout: 60_000,
    connectTimeout: settings.connectTimeoutMs,
    enableKeepAlive: true,
    charset: 'UTF8MB4_BIN',
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
    // Prepared statements live on the server, which caps them for all clients together
    // (max_prepared_stmt_count, 16382 by default): keep each connection's few, evicting the least used.
    maxPreparedStatements: 64,
    flags: ['FOUND_ROWS', '-LOCAL_FILES', '-MULTI_STATEMENTS'],
  });
  // Each connection is set up before anything else runs on it (commands queue in order), and a
  // connection the server drops while idle (a restart, wait_timeout) must not crash the process: the
  // pool discards it and the next statement opens another.
  const setup = sessionSetup(settings.lockTimeoutS);
  pool.pool.on('connection', (connection) => {
    connection.on('error', () => undefined);
    connection.query(setup, (error) => {
      if (error) connection.destroy();
    });
  });

  const shared = sessionOf(pool);
  let closed = false;
  let ending: Promise<void> | undefined;

  async function session<T>(action: string, fn: (session: Session) => Promise<T>, begin = false): Promise<T> {
    if (closed) throw closedError();
    return retryDeadlocks(async () => {
      let connection: PoolConnection;
      try {
        connection = await pool.getConnection();
      } catch (error) {
        throw storageError('connect to the database', error);
      }
      try {
        if (begin) await connection.beginTransaction();
        const value = await fn(sessionOf(connection));
        if (begin) await connection.commit();
        connection.release();
        return value;
      } catch (error) {
        // The connection is not reused: a failed ROLLBACK (or a lost connection) must not leak its state.
        if (begin) await connection.rollback().catch(() => undefined);
        connection.destroy();
        if (errnoOf(error) === ER_LOCK_DEADLOCK) throw error;
        throw storageError(action, error);
      }
    }).catch((error: unknown) => {
      throw storageError(action, error);
    });
  }

  return {
    async rows(action, sql, values) {
      if (closed) throw closedError();
      try {
        return await retryDeadlocks(() => shared.rows(sql, values));
      } catch (error) {
        throw storageError(action, error);
      }
    },
    async affected(action, sql, values) {
      if (closed) throw closedError();
      try {
        return await retryDeadlocks(() => shared.affected(sql, values));
      } catch (error) {
        throw storageError(action, error);
      }
    },
    session: (action, fn) => session(action, fn),
    transaction: (action, fn) => session(action, fn, true),
    assertOpen() {
      if (closed) throw closedError();
    },
    async close() {
      closed = true;
      ending ??= pool.end().catch(() => undefined);
      await ending;
    },
  };
}
