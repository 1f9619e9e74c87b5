/**
 * The connection pool behind the PostgreSQL storage: the `pg` driver loaded only when a
 * `postgres://` URL is opened (it is an optional peer dependency), a pool that survives connections
 * the server drops, and one way to run a statement (`query`) or a transaction (`transaction`) that
 * refuses calls after `close()` and maps every driver error to `ERR_STORAGE`.
 *
 * Nothing here keeps session state a transaction pooler (PgBouncer `pool_mode=transaction`) would
 * lose: statements are unnamed (unless the URL asks for `prepare=true`), locks are
 * transaction-scoped, and there is no `SET` and no temporary table; every statement names its tables
 * with their schema instead of relying on `search_path`.
 */

import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { ConfigError } from '../../errors.ts';
import { closedError, storageError } from './errors.ts';
import type { PostgresSettings } from './url.ts';

/** Loads the `pg` module (its namespace, or the CommonJS export). Injectable for tests. */
export type ImportDriver = () => Promise<unknown>;

/** The real loader: `pg` is imported only when a postgres:// URL is opened. */
export const importPg: ImportDriver = () => import('pg');

export const MISSING_DRIVER = 'SHOPTOKEN_DATABASE_URL is a postgres:// URL: install the pg package (npm install pg)';

/** What a statement returns: its rows and how many rows it touched. */
export interface Result {
  rows: QueryResultRow[];
  rowCount: number;
}

/** Runs one statement with `$1`, `$2`, … parameters. */
export type Query = (text: string, values?: readonly unknown[]) => Promise<Result>;

/**
 * The database server's clock in epoch milliseconds, as an SQL expression: lease times use it, so
 * instances whose own clocks disagree still agree on when a lease runs out.
 */
export const SERVER_NOW_MS = '(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint';

/** The pool, as the storage's parts use it. */
export interface Db {
  /** The schema every table lives in, as written in the URL (unquoted). */
  readonly schema: string;
  /** The quoted, schema-qualified name of one of shoptoken's tables. */
  table(name: string): string;
  /** Runs one statement (a transaction of its own); `action` names it in an error (`read a token row`). */
  query(action: string, text: string, values?: readonly unknown[]): Promise<Result>;
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(action: string, fn: (query: Query) => Promise<T>): Promise<T>;
  /** Ends every connection; later calls reject with ERR_STORAGE. Idempotent. */
  close(): Promise<void>;
}

/** A double-quoted SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The driver's Pool class; a ConfigError naming the package when it is not installed. */
async function loadPool(importDriver: ImportDriver): Promise<typeof Pool> {
  let driver: unknown;
  try {
    driver = await importDriver();
  } catch (error) {
    if (isMissingModule(error)) throw new ConfigError([MISSING_DRIVER]);
    throw storageError('load the pg driver', error);
  }
  const module = driver as { Pool?: unknown; default?: { Pool?: unknown } } | null;
  const PoolClass = module?.Pool ?? module?.default?.Pool;
  if (typeof PoolClass !== 'function') throw storageError('load the pg driver', new TypeError('pg exports no Pool'));
  return PoolClass as typeof Pool;
}

/**
 * The name a statement is prepared under: one per text (the driver prepares a name once per
 * connection and refuses the same name for another text). The storage's statements come in a few
 * dozen shapes (a listing with or without a cursor, …), so a connection holds a few dozen at most.
 */
function statementName(text: string): string {
  return `shoptoken_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
}

/** A statement worth preparing: one a call runs again and again (migrations and DDL are left unnamed). */
const DML = /^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b/i;

const result = (raw: { rows: QueryResultRow[]; rowCount: number | null }): Result => ({
  rows: raw.rows,
  rowCount: raw.rowCount ?? 0,
});

/**
 * Opens a pool for `settings` (no connection is made until the first statement).
 *
 * @example
 * const db = await connect(parsePostgresUrl(url), importPg);
 * const { rows } = await db.query('read a token row', `SELECT … FROM ${db.table('shoptoken_tokens')} …`, [app]);
 */
export async function connect(settings: PostgresSettings, importDriver: ImportDriver = importPg): Promise<Db> {
  const PoolClass = await loadPool(importDriver);
  const pool: Pool = new PoolClass({
    connectionString: settings.connectionString,
    max: settings.pool,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    allowExitOnIdle: true,
  });
  // A pooled connection the server dropped while idle (a restart, an idle timeout): the pool has
  // already discarded it and the next statement opens another. Without a listener, Node would throw.
  pool.on('error', () => undefined);

  const schema = quoteIdent(settings.schema);
  // Per statement, so that migrations (an index build on a large table) are not cut short.
  const queryTimeout = settings.queryTimeoutMs > 0 ? settings.queryTimeoutMs : undefined;
  const names = new Map<string, string>();
  /** The statement's name when statements are prepared (see PostgresSettings.prepare): DML only, never DDL. */
  const nameOf = (text: string): { name?: string } => {
    if (!settings.prepare || !DML.test(text)) return {};
    let name = names.get(text);
    if (name === undefined) {
      name = statementName(text);
      names.set(text, name);
    }
    return { name };
  };
  let closed = false;
  let ending: Promise<void> | undefined;

  async function transaction<T>(action: string, fn: (query: Query) => Promise<T>): Promise<T> {
    if (closed) throw closedError();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw storageError('connect to the database', error);
    }
    // A connection lost between two statements is reported by the next one; nothing to do here.
    const onError = (): void => undefined;
    client.on('error', onError);
    const query: Query = async (text, values) => result(await client.query({ text, values: values as unknown[] }));
    try {
      await query('BEGIN');
      const value = await fn(query);
      await query('COMMIT');
      client.removeListener('error', onError);
      client.release();
      return value;
    } catch (error) {
      // Closing the connection rolls the transaction back on the server, and cannot hang as a
      // ROLLBACK on a stalled connection could; the pool opens a fresh one when needed.
      client.removeListener('error', onError);
      client.release(true);
      throw storageError(action, error);
    }
  }

  return {
    schema: settings.schema,
    table: (name) => `${schema}.${quoteIdent(name)}`,
    async query(action, text, values) {
      if (closed) throw closedError();
      try {
        // pg reads `query_timeout` from a query's config too (its types only know it as a pool option).
        const config = {
          ...nameOf(text),
          text,
          values: values as unknown[],
          query_timeout: queryTimeout,
        } as QueryConfig;
        return result(await pool.query(config));
      } catch (error) {
        throw storageError(action, error);
      }
    },
    transaction,
    async close() {
      closed = true;
      ending ??= pool.end().catch(() => undefined);
      await ending;
    },
  };
}
