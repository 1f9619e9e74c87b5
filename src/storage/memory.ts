/**
 * In-memory token storage, for tests and short-lived processes. Rows are copied on the way in and
 * out, so callers cannot change what is stored by mutating an object.
 */

import { ShoptokenError } from '../errors.ts';
import type { TokenKind } from '../vault/types.ts';
import { credentialsRenewalAt } from './renewal.ts';
import type { DueCursor, TokenRow, TokenStorage } from './types.ts';

function rowKey(shop: string, kind: TokenKind, userId: string): string {
  return JSON.stringify([shop, kind, userId]);
}

/** Binary string order, the same as SQLite's default collation. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRows(a: TokenRow, b: TokenRow): number {
  return compare(a.shop, b.shop) || compare(a.kind, b.kind) || compare(a.userId, b.userId);
}

/** What a compare-and-set writes: `next`, keeping the stored row's identity, `createdAt` and `installedAt`. */
function swapped(existing: TokenRow, next: TokenRow): TokenRow {
  return {
    ...next,
    shop: existing.shop,
    kind: 'offline',
    userId: '',
    createdAt: existing.createdAt,
    installedAt: existing.installedAt,
    ...defaults(next),
  };
}

/** The optional fields as SQLite stores them when absent, so both backends read back the same row. */
function defaults(row: TokenRow): Pick<TokenRow, 'migrationStartedAt' | 'grant' | 'issuedAt'> {
  return {
    migrationStartedAt: row.migrationStartedAt,
    grant: row.grant,
    issuedAt: row.issuedAt,
  };
}

/** Rows with a time due by `before` and strictly after `after`, soonest first (ties by shop), at most `limit`. */
function duePage(
  rows: Iterable<TokenRow>,
  at: (row: TokenRow) => number | null,
  before: number,
  limit: number,
  after: DueCursor | undefined,
): TokenRow[] {
  return [...rows]
    .filter((row) => {
      const time = at(row);
      return (
        time !== null &&
        time <= before &&
        (after === undefined || time > after.at || (time === after.at && row.shop > after.shop))
      );
    })
    .sort((a, b) => (at(a) ?? 0) - (at(b) ?? 0) || compare(a.shop, b.shop))
    .slice(0, Math.max(0, limit))
    .map((row) => ({ ...row }));
}

/**
 * Creates an empty in-memory storage.
 *
 * @example
 * const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
 */
export function createMemoryStorage(): TokenStorage {
  const rows = new Map<string, TokenRow>();
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new ShoptokenError('ERR_STORAGE', 'the memory storage is closed');
  };

  return {
    async get(shop, kind, userId) {
      ensureOpen();
      const row = rows.get(rowKey(shop, kind, userId));
      return row ? { ...row } : null;
    },
    async put(row) {
      ensureOpen();
      const key = rowKey(row.shop, row.kind, row.userId);
      const existing = rows.get(key);
      rows.set(key, {
        ...row,
        createdAt: existing ? existing.createdAt : row.createdAt,
        ...defaults(row),
      });
    },
    async list() {
      ensureOpen();
      return [...rows.values()].map((row) => ({ ...row })).sort(compareRows);
    },
    async swapOffline(shop, expected, next) {
      ensureOpen();
      const key = rowKey(shop, 'offline', '');
      const existing = rows.get(key);
      if (!existing || existing.refreshToken === null || existing.refreshToken !== expected.refreshToken) return false;
      rows.set(key, swapped(existing, next));
      return true;
    },
    async swapOfflineAccess(shop, expected, next) {
      ensureOpen();
      const key = rowKey(shop, 'offline', '');
      const existing = rows.get(key);
      if (!existing || existing.accessToken !== expected.accessToken) return false;
      rows.set(key, swapped(existing, next));
      return true;
    },
    async deleteOnline(shop, userId) {
      ensureOpen();
      return userId !== '' && rows.delete(rowKey(shop, 'online', userId));
    },
    async markInstalled(shop, at) {
      ensureOpen();
      const existing = rows.get(rowKey(shop, 'offline', ''));
      if (!existing) return false;
      if (existing.installedAt === null) existing.installedAt = at;
      return true;
    },
    async dueOffline(before, limit, options) {
      ensureOpen();
      const at = (row: TokenRow) =>
        options?.by === 'refreshTokenExpiresAt' ? row.refreshTokenExpiresAt : row.expiresAt;
      const candidates = [...rows.values()].filter(
        (row) => row.kind === 'offline' && row.refreshToken !== null && row.status === 'active',
      );
      return duePage(candidates, at, before, limit, options?.after);
    },
    async dueCredentials(before, limit, options) {
      ensureOpen();
      const candidates = [...rows.values()].filter(
        (row) => row.kind === 'offline' && row.grant === 'client_credentials' && row.status === 'active',
      );
      return duePage(candidates, credentialsRenewalAt, before, limit, options?.after);
    },
    async close() {
      closed = true;
    },
  };
}
