/**
 * Reading a `mysql://` (or `mariadb://`) URL: user, password, host, port (3306), database, and
 * shoptoken's parameters: `pool` (connections, default 10), `connect_timeout` (seconds, default 5;
 * the same names as the postgres:// URL), `lock_timeout` (seconds a statement waits for a row lock
 * before it fails, retryably: InnoDB's `innodb_lock_wait_timeout`, default 10), and TLS: `ssl=true` (verified against Node's CA store),
 * `ssl=<JSON object>` (mysql2's `ssl` options, as mysql2 reads them from its own URLs, e.g.
 * `{"rejectUnauthorized":false}`) and `sslca=<path to a PEM file>` (verified against that CA). Any
 * other parameter is refused, so a typo never passes silently. No message quotes the URL or a value:
 * the URL may hold a password.
 */

import { readFileSync } from 'node:fs';
import type { SslOptions } from 'mysql2/promise';
import { ConfigError } from '../../errors.ts';

/** What {@link parseMysqlUrl} reads from a URL. */
export interface MysqlSettings {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string;
  /** At most this many connections (`pool`, default 10). */
  pool: number;
  /** How long opening a connection may take, in ms (`connect_timeout` in seconds, default 5). */
  connectTimeoutMs: number;
  /** How long a statement waits for a row lock, in seconds (`lock_timeout`, default 10). */
  lockTimeoutS: number;
  /** mysql2's TLS options, or undefined for a plain connection. */
  ssl: SslOptions | undefined;
}

export const DEFAULT_POOL = 10;
export const DEFAULT_CONNECT_TIMEOUT_S = 5;
export const DEFAULT_LOCK_TIMEOUT_S = 10;
const MAX_POOL = 1000;
const NAME = 'SHOPTOKEN_DATABASE_URL';
const KNOWN = ['pool', 'connect_timeout', 'lock_timeout', 'ssl', 'sslca'];

/** A percent-decoded URL part; a problem (never quoting it) when its encoding is broken. */
function decode(value: string, what: string, problems: string[]): string {
  try {
    return decodeURIComponent(value);
  } catch {
    problems.push(`${NAME}: the ${what} in the mysql:// URL is not valid percent-encoding`);
    return value;
  }
}

/** A whole number from a query parameter, or null when it is not one. */
function whole(value: string): number | null {
  return /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/** The `ssl` and `sslca` parameters as mysql2 options; problems are pushed to `problems`. */
function tls(ssl: string | null, sslca: string | null, problems: string[]): SslOptions | undefined {
  let options: SslOptions | undefined;
  if (ssl === 'true') options = {};
  else if (ssl !== null && ssl !== 'false') {
    try {
      const parsed: unknown = JSON.parse(ssl);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an object');
      options = parsed as SslOptions;
    } catch {
      problems.push(`${NAME}: ssl must be true, false or a JSON object of mysql2's ssl options`);
    }
  }
  if (sslca !== null) {
    try {
      options = { ...options, ca: readFileSync(sslca, 'utf8') };
    } catch {
      problems.push(`${NAME}: sslca must name a readable PEM file`);
    }
  }
  return options;
}

/**
 * The settings in `url`. Throws a ConfigError listing every problem (naming the parameter, never
 * quoting the URL or a value).
 *
 * @example
 * parseMysqlUrl('mysql://app:secret@db.internal:3306/shop?pool=5').pool; // 5
 */
export function parseMysqlUrl(url: string): MysqlSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The TypeError carries the input (the password with it): never pass it on.
    throw new ConfigError([`${NAME} is not a valid mysql:// URL`]);
  }
  const problems: string[] = [];
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    problems.push(`${NAME} is not a mysql:// or mariadb:// URL`);
  }
  const host = decode(parsed.hostname.replace(/^\[(.*)\]$/, '$1'), 'host', problems);
  if (host === '') problems.push(`${NAME}: the mysql:// URL names no host`);
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database', problems);
  const user = decode(parsed.username, 'user', problems);
  const password = decode(parsed.password, 'password', problems);
  if (database === '' || database.includes('/')) {
    problems.push(`${NAME}: the mysql:// URL must name one database (mysql://user:password@host:3306/database)`);
  }

  const params = parsed.searchParams;
  for (const name of new Set(params.keys())) {
    if (!KNOWN.includes(name)) problems.push(`${NAME}: unknown parameter ${name} (known: ${KNOWN.join(', ')})`);
    else if (params.getAll(name).length > 1) problems.push(`${NAME}: ${name} is given more than once`);
  }
  const poolParam = params.get('pool');
  const pool = poolParam === null ? DEFAULT_POOL : whole(poolParam);
  if (pool === null || pool < 1 || pool > MAX_POOL) {
    problems.push(`${NAME}: pool must be a whole number of connections from 1 to ${MAX_POOL}`);
  }
  const timeoutParam = params.get('connect_timeout');
  const timeout = timeoutParam === null ? DEFAULT_CONNECT_TIMEOUT_S : whole(timeoutParam);
  if (timeout === null || timeout < 1)
    problems.push(`${NAME}: connect_timeout must be a whole number of seconds (≥ 1)`);
  const lockParam = params.get('lock_timeout');
  const lock = lockParam === null ? DEFAULT_LOCK_TIMEOUT_S : whole(lockParam);
  if (lock === null || lock < 1 || lock > 3600) {
    problems.push(`${NAME}: lock_timeout must be a whole number of seconds from 1 to 3600`);
  }
  const ssl = tls(params.get('ssl'), params.get('sslca'), problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    host,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: user === '' ? undefined : user,
    password: password === '' ? undefined : password,
    database,
    pool: pool as number,
    connectTimeoutMs: (timeout as number) * 1000,
    lockTimeoutS: lock as number,
    ssl,
  };
}
