/**
 * The embedded default storage: one SQLite file through `node:sqlite` (no native build). WAL
 * journal, a busy timeout for concurrent processes, and versioned migrations recorded in
 * `shoptoken_schema`, applied in one transaction and skipped once applied.
 */

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
// Types only: `node:sqlite` is loaded where a database is opened, so that importing the package on a
// Node without it reaches the version guard (src/node-guard.ts) instead of failing at link time.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { ShoptokenError } from '../errors.ts';
import type { TokenGrant, TokenKind } from '../vault/types.ts';
import type { TokenRow, TokenStatus, TokenStorage } from './types.ts';

/**
 * A client-credentials row's renewal time, as `credentialsRenewalAt` computes it (80 % of the
 * lifetime counted from `issued_at`, else `updated_at`, or 5 minutes before expiry, whichever is
 * earlier). Part of migration 6's index: never change it (a new rule needs a new index).
 */
const CREDENTIALS_RENEWAL_AT = `MIN(COALESCE(issued_at, updated_at) + (expires_at - COALESCE(issued_at, updated_at)) * 0.8,
  expires_at - 300000)`;

/** The rows migration 6's partial index holds. */
const CREDENTIALS_DUE_ROWS = `kind = 'offline' AND token_grant = 'client_credentials' AND status = 'active'
  AND expires_at IS NOT NULL`;

/** Applied in order; entry `i` brings the schema to version `i + 1`. Never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE shoptoken_tokens (
     shop TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('offline', 'online')),
     user_id TEXT NOT NULL,
     access_token TEXT NOT NULL,
     refresh_token TEXT,
     associated_user TEXT,
     scopes TEXT NOT NULL,
     associated_user_scopes TEXT,
     expires_at INTEGER,
     refresh_token_expires_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     installed_at INTEGER,
     PRIMARY KEY (shop, kind, user_id),
     CHECK ((kind = 'offline' AND user_id = '') OR (kind = 'online' AND user_id <> ''))
   ) STRICT;
   CREATE INDEX shoptoken_tokens_expires_at ON shoptoken_tokens (expires_at) WHERE expires_at IS NOT NULL;`,
  // 2: refresh state of expiring offline tokens (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN previous_refresh_token TEXT;
   ALTER TABLE shoptoken_tokens ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
     CHECK (status IN ('active', 'needs_reauth'));
   ALTER TABLE shoptoken_tokens ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0 CHECK (refresh_failures >= 0);
   ALTER TABLE shoptoken_tokens ADD COLUMN last_refresh_error TEXT;
   CREATE INDEX shoptoken_tokens_refresh_token_expires_at ON shoptoken_tokens (refresh_token_expires_at)
     WHERE refresh_token_expires_at IS NOT NULL;`,
  // 3: the keeper's scans of due rows, resumable at a (time, shop) cursor without a sort (issue 3).
  `CREATE INDEX shoptoken_tokens_due_access ON shoptoken_tokens (expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';
   CREATE INDEX shoptoken_tokens_due_refresh ON shoptoken_tokens (refresh_token_expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';`,
  // 4: the intent record of a migration to expiring tokens, written before the irreversible exchange (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN migration_started_at INTEGER;`,
  // 5: how an offline token is obtained (client credentials, custom apps) and when it was issued (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN token_grant TEXT NOT NULL DEFAULT 'authorization_code'
     CHECK (token_grant IN ('authorization_code', 'client_credentials', 'custom'));
   ALTER TABLE shoptoken_tokens ADD COLUMN issued_at INTEGER;`,
  // 6: the keeper's scan of client-credentials tokens due for renewal, by (renewal time, shop).
  `CREATE INDEX shoptoken_tokens_due_credentials ON shoptoken_tokens (${CREDENTIALS_RENEWAL_AT}, shop)
     WHERE ${CREDENTIALS_DUE_ROWS};`,
];

/** The schema version this code expects. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

const BUSY_TIMEOUT_MS = 5000;

const COLUMNS = `shop, kind, user_id, access_token, refresh_token, associated_user, scopes, associated_user_scopes,
  expires_at, refresh_token_expires_at, created_at, updated_at, installed_at, previous_refresh_token, status,
  refresh_failures, last_refresh_error, migration_started_at, token_grant, issued_at`;

/** The columns a refresh changes; `swapOffline` writes these and nothing else. */
const SWAP_SET = `access_token = ?, refresh_token = ?, previous_refresh_token = ?, scopes = ?, expires_at = ?,
  refresh_token_expires_at = ?, updated_at = ?, status = ?, refresh_failures = ?, last_refresh_error = ?,
  migration_started_at = ?, token_grant = ?, issued_at = ?`;

/**
 * Due rows by one expiry column, after a (time, shop) cursor: the WHERE repeats the partial index's
 * condition word for word so SQLite uses it, and the order is the index's, so nothing is sorted.
 */
function dueQuery(column: 'expires_at' | 'refresh_token_expires_at'): string {
  return `SELECT ${COLUMNS} FROM shoptoken_tokens
    WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active'
      AND (${column}, shop) > (?, ?) AND ${column} <= ?
    ORDER BY ${column}, shop LIMIT ?`;
}

/**
 * Client-credentials rows due for renewal, after a (renewal time, shop) cursor: the WHERE and ORDER
 * repeat the index's condition and expression word for word so SQLite searches it (the `>=` gives
 * the search its lower bound) and sorts nothing.
 */
const DUE_CREDENTIALS = `SELECT ${COLUMNS} FROM shoptoken_tokens
  WHERE ${CREDENTIALS_DUE_ROWS}
    AND ${CREDENTIALS_RENEWAL_AT} >= ? AND (${CREDENTIALS_RENEWAL_AT}, shop) > (?, ?) AND ${CREDENTIALS_RENEWAL_AT} <= ?
  ORDER BY ${CREDENTIALS_RENEWAL_AT}, shop LIMIT ?`;

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

function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM shoptoken_schema').get() as { version: number | null };
  return row.version ?? 0;
}

/** Applies the missing migrations in one transaction; a second process opening at once waits, then skips. */
function migrate(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS shoptoken_schema (
    version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`);
  if (schemaVersion(db) >= MIGRATIONS.length) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const record = db.prepare('INSERT INTO shoptoken_schema (version, applied_at) VALUES (?, ?)');
    for (let version = schemaVersion(db) + 1; version <= MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version - 1]!);
      record.run(version, Date.now());
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

interface SqlRow {
  shop: string;
  kind: TokenKind;
  user_id: string;
  access_token: string;
  refresh_token: string | null;
  associated_user: string | null;
  scopes: string;
  associated_user_scopes: string | null;
  expires_at: number | null;
  refresh_token_expires_at: number | null;
  created_at: number;
  updated_at: number;
  installed_at: number | null;
  previous_refresh_token: string | null;
  status: TokenStatus;
  refresh_failures: number;
  last_refresh_error: string | null;
  migration_started_at: number | null;
  token_grant: TokenGrant;
  issued_at: number | null;
}

function fromSql(row: SqlRow): TokenRow {
  return {
    shop: row.shop,
    kind: row.kind,
    userId: row.user_id,
    accessToken: row.access_token,
    refreshToken: row.refresh_token,
    user: row.associated_user,
    scopes: row.scopes,
    associatedUserScopes: row.associated_user_scopes,
    expiresAt: row.expires_at,
    refreshTokenExpiresAt: row.refresh_token_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    installedAt: row.installed_at,
    previousRefreshToken: row.previous_refresh_token,
    status: row.status,
    refreshFailures: row.refresh_failures,
    lastRefreshError: row.last_refresh_error,
    migrationStartedAt: row.migration_started_at,
    grant: row.token_grant,
    issuedAt: row.issued_at,
  };
}

function toSql(row: TokenRow): SQLInputValue[] {
  return [
    row.shop,
    row.kind,
    row.userId,
    row.accessToken,
    row.refreshToken,
    row.user,
    row.scopes,
    row.associatedUserScopes,
    row.expiresAt,
    row.refreshTokenExpiresAt,
    row.createdAt,
    row.updatedAt,
    row.installedAt,
    row.previousRefreshToken,
    row.status,
    row.refreshFailures,
    row.lastRefreshError,
    row.migrationStartedAt,
    row.grant,
    row.issuedAt,
  ];
}

function swapValues(row: TokenRow): SQLInputValue[] {
  return [
    row.accessToken,
    row.refreshToken,
    row.previousRefreshToken,
    row.scopes,
    row.expiresAt,
    row.refreshTokenExpiresAt,
    row.updatedAt,
    row.status,
    row.refreshFailures,
    row.lastRefreshError,
    row.migrationStartedAt,
    row.grant,
    row.issuedAt,
  ];
}

/**
 * Opens (creating and migrating when needed) the SQLite database at `path`; `':memory:'` for a
 * private in-memory database.
 *
 * @example
 * const storage = openSqliteStorage('.shoptoken/shoptoken.db');
 */
export function openSqliteStorage(path: string): TokenStorage {
  let opened: DatabaseSync | undefined;
  // Tracked here rather than with DatabaseSync#isOpen, which Node 22.13 and 22.14 lack.
  let open = false;
  let statements: Record<
    | 'get'
    | 'put'
    | 'list'
    | 'swap'
    | 'swapAccess'
    | 'deleteOnline'
    | 'markInstalled'
    | 'dueAccess'
    | 'dueRefresh'
    | 'dueCredentials',
    StatementSync
  >;
  try {
    if (path !== ':memory:') prepareFile(path);
    const db = new (process.getBuiltinModule('node:sqlite').DatabaseSync)(path);
    opened = db;
    open = true;
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    migrate(db);
    statements = {
      get: db.prepare(`SELECT ${COLUMNS} FROM shoptoken_tokens WHERE shop = ? AND kind = ? AND user_id = ?`),
      put: db.prepare(
        `INSERT INTO shoptoken_tokens (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (shop, kind, user_id) DO UPDATE SET
           access_token = excluded.access_token, refresh_token = excluded.refresh_token,
           associated_user = excluded.associated_user, scopes = excluded.scopes,
           associated_user_scopes = excluded.associated_user_scopes, expires_at = excluded.expires_at,
           refresh_token_expires_at = excluded.refresh_token_expires_at, updated_at = excluded.updated_at,
           installed_at = excluded.installed_at, previous_refresh_token = excluded.previous_refresh_token,
           status = excluded.status, refresh_failures = excluded.refresh_failures,
           last_refresh_error = excluded.last_refresh_error, migration_started_at = excluded.migration_started_at,
           token_grant = excluded.token_grant, issued_at = excluded.issued_at`,
      ),
      list: db.prepare(`SELECT ${COLUMNS} FROM shoptoken_tokens ORDER BY shop, kind, user_id`),
      swap: db.prepare(
        `UPDATE shoptoken_tokens SET ${SWAP_SET}
         WHERE shop = ? AND kind = 'offline' AND user_id = '' AND refresh_token = ?`,
      ),
      swapAccess: db.prepare(
        `UPDATE shoptoken_tokens SET ${SWAP_SET}
         WHERE shop = ? AND kind = 'offline' AND user_id = '' AND access_token = ?`,
      ),
      deleteOnline: db.prepare(
        `DELETE FROM shoptoken_tokens WHERE shop = ? AND kind = 'online' AND user_id = ? AND user_id <> ''`,
      ),
      markInstalled: db.prepare(
        `UPDATE shoptoken_tokens SET installed_at = COALESCE(installed_at, ?)
         WHERE shop = ? AND kind = 'offline' AND user_id = ''`,
      ),
      dueAccess: db.prepare(dueQuery('expires_at')),
      dueRefresh: db.prepare(dueQuery('refresh_token_expires_at')),
      dueCredentials: db.prepare(DUE_CREDENTIALS),
    };
  } catch (error) {
    if (open) opened?.close();
    throw storageError(`open ${path}`, error);
  }
  const db = opened;

  const guard = <T>(action: string, run: () => T): T => {
    if (!open) throw new ShoptokenError('ERR_STORAGE', 'the SQLite storage is closed');
    try {
      return run();
    } catch (error) {
      throw storageError(action, error);
    }
  };

  return {
    async get(shop, kind, userId) {
      const row = guard('read a token', () => statements.get.get(shop, kind, userId)) as SqlRow | undefined;
      return row ? fromSql(row) : null;
    },
    async put(row) {
      guard('write a token', () => statements.put.run(...toSql(row)));
    },
    async list() {
      return (guard('list tokens', () => statements.list.all()) as unknown as SqlRow[]).map(fromSql);
    },
    async swapOffline(shop, expected, next) {
      const result = guard('swap a token', () => statements.swap.run(...swapValues(next), shop, expected.refreshToken));
      return result.changes === 1;
    },
    async swapOfflineAccess(shop, expected, next) {
      const result = guard('swap a token', () =>
        statements.swapAccess.run(...swapValues(next), shop, expected.accessToken),
      );
      return result.changes === 1;
    },
    async deleteOnline(shop, userId) {
      return guard('delete a token', () => statements.deleteOnline.run(shop, userId)).changes === 1;
    },
    async markInstalled(shop, at) {
      return guard('mark an install', () => statements.markInstalled.run(at, shop)).changes === 1;
    },
    async dueOffline(before, limit, options) {
      const statement = options?.by === 'refreshTokenExpiresAt' ? statements.dueRefresh : statements.dueAccess;
      const after = options?.after ?? { at: Number.MIN_SAFE_INTEGER, shop: '' };
      const rows = guard('list due tokens', () => statement.all(after.at, after.shop, before, Math.max(0, limit)));
      return (rows as unknown as SqlRow[]).map(fromSql);
    },
    async dueCredentials(before, limit, options) {
      const after = options?.after ?? { at: Number.MIN_SAFE_INTEGER, shop: '' };
      const rows = guard('list due tokens', () =>
        statements.dueCredentials.all(after.at, after.at, after.shop, before, Math.max(0, limit)),
      );
      return (rows as unknown as SqlRow[]).map(fromSql);
    },
    async close() {
      if (open) db.close();
      open = false;
    },
  };
}
