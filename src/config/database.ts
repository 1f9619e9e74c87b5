/**
 * Where the vault's database is: the `--database` flag, else `SHOPTOKEN_DATABASE_URL`, else
 * `.shoptoken/shoptoken.db` under the working directory. SQLite only for now (`sqlite:path`,
 * `sqlite:///abs`, `file:` URLs, a plain path or `:memory:`); other schemes are refused by name.
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';

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
    throw new ConfigError([
      `${label}: the "${scheme}" database scheme is not supported yet (use sqlite:PATH, file:PATH or a path)`,
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
