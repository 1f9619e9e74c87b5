/**
 * Choosing a backend by URL: `postgres://` (`pg`), `mysql://` (`mysql2`), `redis://`/`rediss://`
 * (`ioredis`), `memory:`; anything else is the SQLite default (the caller resolves its path). A
 * backend and its driver are loaded only when its URL is used: the drivers are optional peer
 * dependencies, and a missing one is a ConfigError naming the package to install.
 */

import { ConfigError } from '../errors.ts';
import { createMemoryStorage } from './memory.ts';
import type { MigrationReport } from './migrations.ts';
import type { TokenStorage } from './types.ts';

/** Options every backend's open function takes. */
export interface OpenStorageOptions {
  /** Called once the schema is up to date (migrations run on open), with what was applied. */
  onMigrated?: (report: MigrationReport) => void;
}

/** The backends chosen by URL scheme (SQLite is chosen by path, elsewhere). */
export type NetworkBackend = 'postgres' | 'mysql' | 'redis';

/** The network backend a URL names, `memory`, or null (a SQLite location). */
export function backendOf(url: string): NetworkBackend | 'memory' | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  if (scheme === 'redis' || scheme === 'rediss') return 'redis';
  if (scheme === 'memory') return 'memory';
  return null;
}

/**
 * Opens the network backend (or memory storage) `url` names; its schema is migrated on open.
 * Throws ConfigError for a missing driver or a malformed URL (never quoting the URL: it may hold a
 * password), ERR_STORAGE when the database cannot be reached.
 *
 * @example
 * const storage = await openNetworkStorage('postgres://app@db.internal/shoptoken');
 */
export async function openNetworkStorage(url: string, options: OpenStorageOptions = {}): Promise<TokenStorage> {
  switch (backendOf(url)) {
    case 'memory':
      return createMemoryStorage();
    case 'postgres':
      return (await import('./postgres/index.ts')).openPostgresStorage(url, options);
    case 'mysql':
      return (await import('./mysql/index.ts')).openMysqlStorage(url, options);
    case 'redis':
      return (await import('./redis/index.ts')).openRedisStorage(url, options);
    default:
      throw new ConfigError(['the database URL names no network backend (postgres://, mysql://, redis://, memory:)']);
  }
}
