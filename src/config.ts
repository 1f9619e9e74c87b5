/**
 * The configuration the app, the demo and the CLI share: where the database is and which keys
 * encrypt it. One place, so `shoptoken tokens list` reads the same database the app writes.
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.ts';
import { openSqliteStorage } from './storage/sqlite.ts';
import { loadKeys } from './vault/key-source.ts';
import { openVault, type Vault, type VaultOptions } from './vault/vault.ts';

/** The default database, relative to the working directory. */
export const DEFAULT_DATABASE_PATH = '.shoptoken/shoptoken.db';

/** Where to look for the database setting. */
export interface DatabaseOptions {
  env: NodeJS.ProcessEnv;
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

/** What {@link openDefaultVault} needs. */
export interface DefaultVaultOptions extends DatabaseOptions {
  /** Defaults to `production` when `env.NODE_ENV === 'production'`, else `demo`. */
  mode?: 'demo' | 'production';
  /** How the vault reaches Shopify to refresh expiring offline tokens (see `openVault`). */
  shopify?: VaultOptions['shopify'];
  refresh?: VaultOptions['refresh'];
}

/** An opened vault and where its pieces came from. */
export interface DefaultVault {
  vault: Vault;
  databasePath: string;
  /** `SHOPTOKEN_KEYS` or the key file's path. */
  keySource: string;
  /** True when a demo key file was just created; tell the user to keep it secret and back it up. */
  generatedKey: boolean;
}

/**
 * Opens the vault on the embedded SQLite default with keys from the environment (see `loadKeys`).
 *
 * @example
 * const { vault, keySource, generatedKey } = await openDefaultVault({ env: process.env, cwd: process.cwd() });
 */
export async function openDefaultVault(options: DefaultVaultOptions): Promise<DefaultVault> {
  const { env, cwd } = options;
  const mode = options.mode ?? (env.NODE_ENV === 'production' ? 'production' : 'demo');
  const databasePath = resolveDatabasePath(options);
  const { keys, source, generated } = await loadKeys({ env, cwd, mode });
  const storage = openSqliteStorage(databasePath);
  let vault: Vault;
  try {
    vault = openVault({ storage, keys, shopify: options.shopify, refresh: options.refresh });
  } catch (error) {
    await storage.close();
    throw error;
  }
  return { vault, databasePath, keySource: source, generatedKey: generated };
}
