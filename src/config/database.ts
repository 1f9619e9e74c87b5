/**
 * Where the vault's database is, chosen by one setting: the `--database` flag, else
 * `SHOPTOKEN_DATABASE_URL`, else `.shoptoken/shoptoken.db` under the working directory.
 * `postgres://`, `mysql://`, `redis://` (and `rediss://`) and `memory:` pick those backends; anything
 * else is the SQLite default (`sqlite:path`, `sqlite:///abs`, `file:` URLs, a plain path, `:memory:`).
 * Messages never quote a URL, which may hold a password.
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { backendOf, type NetworkBackend, type OpenStorageOptions, openNetworkStorage } from '../storage/open.ts';
import { openSqliteStorage } from '../storage/sqlite.ts';
import type { TokenStorage } from '../storage/types.ts';

/** The default database, relative to the working directory. */
export const DEFAULT_DATABASE_PATH = '.shoptoken/shoptoken.db';

/** Where to look for the database setting. */
export interface DatabaseOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** An explicit location (the `--database` flag); wins over `SHOPTOKEN_DATABASE_URL`. */
  database?: string | undefined;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/**
 * Turns one location (`sqlite:path`, `sqlite:///abs`, `file:…`, a plain path or `:memory:`) into a
 * file path. Messages name only the scheme: a database URL may carry a password.
 */
function toPath(value: string, cwd: string, label: string): string {
  if (value === ':memory:' || value === 'sqlite::memory:') return ':memory:';
  const scheme = WINDOWS_DRIVE.test(value) ? undefined : SCHEME.exec(value)?.[1]?.toLowerCase();
  let path = value;
  if (scheme === 'sqlite') {
    path = value.slice('sqlite:'.length);
    if (path.startsWith('//')) {
      if (!path.startsWith('///')) throw new ConfigError([`${label}: use sqlite:relative.db or sqlite:///absolute.db`]);
      path = path.slice(2);
    }
  } else if (scheme === 'file') {
    try {
      path = value.startsWith('file://') ? fileURLToPath(value) : decodeURIComponent(value.slice('file:'.length));
    } catch {
      throw new ConfigError([`${label}: not a valid file: URL`]);
    }
  } else if (scheme !== undefined) {
    const what = backendOf(value) ? 'names a database server, not a SQLite file' : `has an unknown scheme "${scheme}"`;
    throw new ConfigError([
      `${label} ${what} (use sqlite:PATH, file:PATH, a path, postgres://, mysql://, redis:// or memory:)`,
    ]);
  }
  if (path === '') throw new ConfigError([`${label}: the database path is empty`]);
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * The SQLite database path: the explicit `database`, else `SHOPTOKEN_DATABASE_URL`, else
 * `.shoptoken/shoptoken.db` under `cwd`. Throws ConfigError for other schemes (postgres:// …).
 *
 * @example
 * resolveDatabasePath({ env: { SHOPTOKEN_DATABASE_URL: 'sqlite:data/app.db' }, cwd: '/srv' }) // '/srv/data/app.db'
 */
export function resolveDatabasePath(options: DatabaseOptions): string {
  const { env, cwd, database } = options;
  if (database) return toPath(database, cwd, '--database');
  if (env.SHOPTOKEN_DATABASE_URL) return toPath(env.SHOPTOKEN_DATABASE_URL, cwd, 'SHOPTOKEN_DATABASE_URL');
  return resolve(cwd, DEFAULT_DATABASE_PATH);
}

/**
 * The database path of a loaded configuration (`config.database`, i.e. `SHOPTOKEN_DATABASE_URL`),
 * unless `flag` (the `--database` flag) names another.
 *
 * @example
 * configDatabasePath(loadConfig({ env: process.env, cwd: process.cwd() })) // '/srv/app/.shoptoken/shoptoken.db'
 */
export function configDatabasePath(config: { database: string | undefined; cwd: string }, flag?: string): string {
  if (flag) return toPath(flag, config.cwd, '--database');
  if (config.database) return toPath(config.database, config.cwd, 'SHOPTOKEN_DATABASE_URL');
  return resolve(config.cwd, DEFAULT_DATABASE_PATH);
}

/** Where a configuration's tokens are: a SQLite file, or a database server (or memory) by URL. */
export type DatabaseLocation =
  | { backend: 'sqlite'; path: string; display: string }
  | { backend: NetworkBackend | 'memory'; url: string; display: string };

/** A URL without its password and query, to print (`postgres://app@db.internal:5432/shoptoken`). */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return `${url.split(':')[0]}:…`;
  const parsed = new URL(url);
  const user = parsed.username ? `${parsed.username}@` : '';
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/**
 * The database of `config` (or of `flag`, the `--database` flag). Throws ConfigError for a location
 * that is neither a SQLite path nor a supported URL.
 *
 * @example
 * databaseLocation(loadConfig({ env: { SHOPTOKEN_DATABASE_URL: 'postgres://app@db/tokens' }, cwd })) // { backend: 'postgres', … }
 */
export function databaseLocation(
  config: { database: string | undefined; cwd: string },
  flag?: string,
): DatabaseLocation {
  const value = flag || config.database;
  const backend = value ? backendOf(value) : null;
  if (value && backend) return { backend, url: value, display: backend === 'memory' ? 'memory:' : redactUrl(value) };
  const path = configDatabasePath(config, flag);
  return { backend: 'sqlite', path, display: path };
}

/**
 * Opens the storage of `config` (or of `flag`): SQLite by default, the backend its URL names
 * otherwise (its driver loaded then; its schema migrated on open).
 *
 * @example
 * const storage = await openConfiguredStorage(loadConfig({ env: process.env, cwd: process.cwd() }));
 */
export async function openConfiguredStorage(
  config: { database: string | undefined; cwd: string },
  options: OpenStorageOptions & { database?: string | undefined } = {},
): Promise<{ storage: TokenStorage; location: DatabaseLocation }> {
  const location = databaseLocation(config, options.database);
  const open = { ...(options.onMigrated ? { onMigrated: options.onMigrated } : {}) };
  const storage =
    location.backend === 'sqlite'
      ? await openSqliteStorage(location.path, open)
      : await openNetworkStorage(location.url, open);
  return { storage, location };
}
