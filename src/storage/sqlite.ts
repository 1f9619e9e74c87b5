/**
 * The embedded default storage: one SQLite file through `node:sqlite` (no native build). WAL
 * journal, a busy timeout for concurrent processes, versioned migrations (src/storage/sqlite/
 * migrations.ts) applied by the shared runner under `BEGIN IMMEDIATE`, and leases and OAuth states
 * in the same file, so several processes on one file coordinate.
 */

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
// Types only: `node:sqlite` is loaded where a database is opened, so that importing the package on a
// Node without it reaches the version guard (src/node-guard.ts) instead of failing at link time.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ShoptokenError } from '../errors.ts';
import { type MigrationReport, type MigrationTarget, runMigrations } from './migrations.ts';
import { checkLimit, rowFromRecord, rowValues, UPDATED_COLUMNS } from './row-codec.ts';
import { type Guard, sqliteLeases, sqliteStates } from './sqlite/coordination.ts';
import { SQLITE_MIGRATIONS } from './sqlite/migrations.ts';
import { prepareTokenStatements } from './sqlite/statements.ts';
import { sqliteWebhooks } from './sqlite/webhooks.ts';
import type { TokenKey, TokenKind, TokenStorage } from './types.ts';

/** The schema version this code expects. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

const BUSY_TIMEOUT_MS = 5000;

function storageError(action: string, cause: unknown): ShoptokenError {
  const busy = cause instanceof Error && /SQLITE_BUSY|database is locked/i.test(cause.message);
  return new ShoptokenError('ERR_STORAGE', `SQLite storage could not ${action}`, { cause, retryable: busy });
}

/** Creates the parent directory (0700) and, when missing, an empty file (0600): a new database is never world-readable. */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** The runner's view of one connection: `BEGIN IMMEDIATE` makes a second process wait, then see the versions. */
function migrationTarget(db: DatabaseSync): MigrationTarget {
  return {
    async exclusive(fn) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    async appliedVersion() {
      db.exec(
        'CREATE TABLE IF NOT EXISTS shoptoken_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
      );
      const row = db.prepare('SELECT MAX(version) AS version FROM shoptoken_schema').get() as {
        version: number | null;
      };
      return row.version ?? 0;
    },
    async apply(migration) {
      for (const statement of migration.statements) db.exec(statement);
      db.prepare('INSERT INTO shoptoken_schema (version, applied_at) VALUES (?, ?)').run(migration.version, Date.now());
    },
  };
}

const keyValues = (key: TokenKey): SQLInputValue[] => [key.app, key.shop, key.kind, key.userId];
/** The key's values but its kind, which picks the statement (sqlite/statements.ts). */
const keyValuesOfKind = (key: TokenKey): SQLInputValue[] => [key.app, key.shop, key.userId];
const isKind = (kind: unknown): kind is TokenKind => kind === 'offline' || kind === 'online';

/** Options of {@link openSqliteStorage}. */
export interface SqliteStorageOptions {
  /** Called once the schema is up to date (migrations run on open), with what was applied. */
  onMigrated?: (report: MigrationReport) => void;
}

/**
 * Opens (creating and migrating when needed) the SQLite database at `path`; `':memory:'` for a
 * private in-memory database.
 *
 * @example
 * const storage = await openSqliteStorage('.shoptoken/shoptoken.db');
 */
export async function openSqliteStorage(path: string, options: SqliteStorageOptions = {}): Promise<TokenStorage> {
  let db: DatabaseSync | undefined;
  // Tracked here rather than with DatabaseSync#isOpen, which Node 22.13 and 22.14 lack.
  let open = false;
  let statements: ReturnType<typeof prepareTokenStatements>;
  try {
    if (path !== ':memory:') prepareFile(path);
    db = new (process.getBuiltinModule('node:sqlite').DatabaseSync)(path);
    open = true;
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    const report = await runMigrations(migrationTarget(db), SQLITE_MIGRATIONS);
    statements = prepareTokenStatements(db);
    options.onMigrated?.(report);
  } catch (error) {
    if (open) db?.close();
    if (error instanceof ShoptokenError) throw error;
    throw storageError(`open ${path}`, error);
  }
  const connection = db;

  const guard: Guard = (action, run) => {
    if (!open) throw new ShoptokenError('ERR_STORAGE', 'the SQLite storage is closed');
    try {
      return run();
    } catch (error) {
      throw storageError(action, error);
    }
  };
  const rows = (records: unknown[]) => records.map((record) => rowFromRecord(record as Record<string, unknown>));

  return {
    name: 'sqlite',
    async get(key) {
      if (!isKind(key.kind)) return null;
      const statement = statements.get[key.kind];
      const record = guard('read a token', () => statement.get(...keyValuesOfKind(key)));
      return record ? rowFromRecord(record as Record<string, unknown>) : null;
    },
    async put(row) {
      guard('write a token', () => statements.put.run(...rowValues(row)));
    },
    async swap(key, expected, next) {
      const byRefresh = 'refreshToken' in expected;
      if (!isKind(key.kind)) return false;
      const statement = (byRefresh ? statements.swapRefresh : statements.swapAccess)[key.kind];
      const value = byRefresh ? expected.refreshToken : expected.accessToken;
      const values = [...rowValues(next, UPDATED_COLUMNS), ...keyValuesOfKind(key), value];
      return guard('swap a token', () => statement.run(...values)).changes === 1;
    },
    async markInstalled(app, shop, at) {
      return guard('mark an install', () => statements.markInstalled.run(at, app, shop)).changes === 1;
    },
    async deleteOnline(app, shop, userId) {
      return guard('delete a token', () => statements.deleteOnline.run(app, shop, userId)).changes === 1;
    },
    async deleteShop(app, shop) {
      return Number(guard('delete a shop', () => statements.deleteShop.run(app, shop)).changes);
    },
    async list(query) {
      const limit = checkLimit(query.limit);
      const { app, after } = query;
      const cursor = after ? keyValues(after) : [];
      const statement =
        app === undefined
          ? after
            ? statements.list.after
            : statements.list.all
          : after
            ? statements.list.appAfter
            : statements.list.app;
      const params = [...(app === undefined ? [] : [app]), ...cursor, limit];
      return rows(guard('list tokens', () => statement.all(...params)));
    },
    async due(index, query) {
      const limit = checkLimit(query.limit);
      const { app, before, after } = query;
      const statement = after ? statements.due[index].after : statements.due[index].first;
      const params = [app, before, ...(after ? [after.at, after.shop] : []), limit];
      return rows(guard('list due tokens', () => statement.all(...params)));
    },
    leases: sqliteLeases(connection, guard),
    states: sqliteStates(connection, guard),
    webhooks: sqliteWebhooks(connection, guard),
    async close() {
      if (open) connection.close();
      open = false;
    },
  };
}
