/**
 * Reading a `postgres://` (or `postgresql://`) URL: the libpq form the `pg` driver understands (user,
 * password, host, port, database, `sslmode` and the other libpq parameters, passed through), plus
 * shoptoken's own parameters, which are taken out before the driver sees the URL:
 * `schema` (where the tables live), `pool` (connections), `connect_timeout` (seconds, as libpq),
 * `query_timeout` (ms a statement may take before the call fails and its connection is dropped) and
 * `prepare` (named prepared statements, off by default: see {@link PostgresSettings.prepare}).
 * No message quotes the URL: it may hold a password.
 */

import { ConfigError } from '../../errors.ts';

/** What {@link parsePostgresUrl} reads from a URL. */
export interface PostgresSettings {
  /** The URL without shoptoken's parameters, for the driver. */
  connectionString: string;
  /** The schema every table lives in (`public` by default), used exactly as written (quoted). */
  schema: string;
  /** At most this many connections (`pool`, default 10). */
  pool: number;
  /** How long opening a connection (or waiting for a free one) may take, in ms (`connect_timeout`, default 5 s; 0: no limit). */
  connectTimeoutMs: number;
  /** How long one statement may run, in ms, migrations excepted (`query_timeout`, default 30 s; 0: no limit). */
  queryTimeoutMs: number;
  /**
   * Whether statements are named, so each connection parses and plans one only once (`prepare`,
   * default false). Off by default: a transaction pooler (PgBouncer before 1.21, or later without
   * `max_prepared_statements`) hands a named statement to a connection that never saw it.
   */
  prepare: boolean;
}

export const DEFAULT_POOL = 10;
export const DEFAULT_CONNECT_TIMEOUT_S = 5;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const MAX_POOL = 1000;
const NAME = 'SHOPTOKEN_DATABASE_URL';

/** A schema name shoptoken accepts: a plain identifier of at most 63 bytes. */
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A whole number from a query parameter, or null when it is not one. */
function whole(value: string): number | null {
  return /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/**
 * The settings in `url`. Throws a ConfigError listing every problem (naming the parameter, never
 * quoting the URL).
 *
 * @example
 * parsePostgresUrl('postgres://app:secret@db.internal/shop?schema=shoptoken&pool=5').schema; // 'shoptoken'
 */
export function parsePostgresUrl(url: string): PostgresSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The TypeError carries the input (the password with it): never pass it on.
    throw new ConfigError([`${NAME} is not a valid postgres:// URL`]);
  }
  const problems: string[] = [];
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.push(`${NAME} is not a postgres:// or postgresql:// URL`);
  }
  const params = parsed.searchParams;
  const take = (name: string): string | null => {
    const values = params.getAll(name);
    params.delete(name);
    if (values.length > 1) problems.push(`${NAME}: ${name} is given more than once`);
    return values[0] ?? null;
  };

  const schema = take('schema') ?? 'public';
  if (!SCHEMA.test(schema)) {
    problems.push(`${NAME}: schema must be a plain name (letters, digits, _; not starting with a digit; at most 63)`);
  }
  const poolParam = take('pool');
  const pool = poolParam === null ? DEFAULT_POOL : whole(poolParam);
  if (pool === null || pool < 1 || pool > MAX_POOL) {
    problems.push(`${NAME}: pool must be a whole number of connections from 1 to ${MAX_POOL}`);
  }
  const timeoutParam = take('connect_timeout');
  const timeout = timeoutParam === null ? DEFAULT_CONNECT_TIMEOUT_S : whole(timeoutParam);
  if (timeout === null) problems.push(`${NAME}: connect_timeout must be a whole number of seconds (0: no limit)`);
  const queryParam = take('query_timeout');
  const queryTimeout = queryParam === null ? DEFAULT_QUERY_TIMEOUT_MS : whole(queryParam);
  if (queryTimeout === null)
    problems.push(`${NAME}: query_timeout must be a whole number of milliseconds (0: no limit)`);
  const prepare = take('prepare') ?? 'false';
  if (prepare !== 'true' && prepare !== 'false') problems.push(`${NAME}: prepare must be true or false`);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    connectionString: parsed.toString(),
    schema,
    pool: pool as number,
    connectTimeoutMs: (timeout as number) * 1000,
    queryTimeoutMs: queryTimeout as number,
    prepare: prepare === 'true',
  };
}
