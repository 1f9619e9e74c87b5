/**
 * The token row, written once: its columns (names, SQL types, which are part of the key) and the
 * conversion between a {@link TokenRow} and a flat record of column values. Every SQL backend builds
 * its statements from {@link TOKEN_COLUMNS}, Redis stores the same record in a hash, and reading goes
 * through {@link rowFromRecord}, which checks every value — a driver that hands back a BIGINT as a
 * string or bigint, or a corrupted value, is caught here rather than deep in the vault.
 */

import { ShoptokenError } from '../errors.ts';
import type { DueIndex, TokenGrant, TokenKey, TokenKind, TokenRow, TokenStatus } from './types.ts';

/** What a column holds: text, a nullable text, an integer (epoch ms or a count), a nullable integer. */
export type ColumnType = 'text' | 'text?' | 'integer' | 'integer?';

/** One column of the token table. */
export interface Column {
  field: keyof TokenRow;
  column: string;
  type: ColumnType;
}

/** Every column, key columns first, in the order backends use for statements and values. */
export const TOKEN_COLUMNS: readonly Column[] = [
  { field: 'app', column: 'app', type: 'text' },
  { field: 'shop', column: 'shop', type: 'text' },
  { field: 'kind', column: 'kind', type: 'text' },
  { field: 'userId', column: 'user_id', type: 'text' },
  { field: 'accessToken', column: 'access_token', type: 'text' },
  { field: 'refreshToken', column: 'refresh_token', type: 'text?' },
  { field: 'previousRefreshToken', column: 'previous_refresh_token', type: 'text?' },
  { field: 'user', column: 'associated_user', type: 'text?' },
  { field: 'scopes', column: 'scopes', type: 'text' },
  { field: 'associatedUserScopes', column: 'associated_user_scopes', type: 'text?' },
  { field: 'expiresAt', column: 'expires_at', type: 'integer?' },
  { field: 'refreshTokenExpiresAt', column: 'refresh_token_expires_at', type: 'integer?' },
  { field: 'renewAt', column: 'renew_at', type: 'integer?' },
  { field: 'createdAt', column: 'created_at', type: 'integer' },
  { field: 'updatedAt', column: 'updated_at', type: 'integer' },
  { field: 'installedAt', column: 'installed_at', type: 'integer?' },
  { field: 'status', column: 'status', type: 'text' },
  { field: 'refreshFailures', column: 'refresh_failures', type: 'integer' },
  { field: 'lastRefreshError', column: 'last_refresh_error', type: 'text?' },
  { field: 'migrationStartedAt', column: 'migration_started_at', type: 'integer?' },
  { field: 'grant', column: 'token_grant', type: 'text' },
  { field: 'issuedAt', column: 'issued_at', type: 'integer?' },
  { field: 'authorizedAt', column: 'authorized_at', type: 'integer?' },
];

/** The key columns, in order. */
export const KEY_COLUMNS: readonly Column[] = TOKEN_COLUMNS.slice(0, 4);

/** Columns a write never changes on an existing row (see the contract: the store keeps them). */
export const KEPT_ON_WRITE: ReadonlySet<keyof TokenRow> = new Set(['createdAt', 'installedAt']);

/** The columns an update of an existing row sets: everything but the key and what the store keeps. */
export const UPDATED_COLUMNS: readonly Column[] = TOKEN_COLUMNS.filter(
  (column) => !KEY_COLUMNS.includes(column) && !KEPT_ON_WRITE.has(column.field),
);

/** A flat record of column values (SQL parameters, a Redis hash). */
export type ColumnValue = string | number | null;

/** The values of `columns` for `row`, in order. */
export function rowValues(row: TokenRow, columns: readonly Column[] = TOKEN_COLUMNS): ColumnValue[] {
  return columns.map(({ field }) => row[field] as ColumnValue);
}

/** The key of a row (a copy). */
export function keyOf(row: TokenKey): TokenKey {
  return { app: row.app, shop: row.shop, kind: row.kind, userId: row.userId };
}

const KINDS: readonly TokenKind[] = ['offline', 'online'];
const STATUSES: readonly TokenStatus[] = ['active', 'needs_reauth'];
const GRANTS: readonly TokenGrant[] = ['authorization_code', 'client_credentials', 'custom'];

function corrupt(column: string): ShoptokenError {
  return new ShoptokenError('ERR_STORAGE', `a stored token row has an invalid ${column}`);
}

/** An integer from a driver's number, numeric string or bigint. */
function integer(value: unknown, column: string): number {
  const n =
    typeof value === 'number' ? value : typeof value === 'bigint' || typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw corrupt(column);
  return n;
}

/** The columns with their type read once (a row is decoded on every read). */
const DECODED = TOKEN_COLUMNS.map(({ field, column, type }) => ({
  field,
  column,
  nullable: type.endsWith('?'),
  integral: type.startsWith('integer'),
}));

/**
 * The row in a record keyed by column name (or, with `byField`, by field name). Throws ERR_STORAGE
 * naming the column for any value of the wrong type; never quotes a value.
 */
export function rowFromRecord(record: Record<string, unknown>, byField = false): TokenRow {
  const row: Record<string, unknown> = {};
  for (const { field, column, nullable, integral } of DECODED) {
    const value = record[byField ? field : column];
    if (value === null || value === undefined) {
      if (!nullable) throw corrupt(column);
      row[field] = null;
    } else if (integral) {
      row[field] = integer(value, column);
    } else if (typeof value === 'string') {
      row[field] = value;
    } else if (Buffer.isBuffer(value)) {
      row[field] = value.toString('utf8');
    } else {
      throw corrupt(column);
    }
  }
  if (!KINDS.includes(row.kind as TokenKind)) throw corrupt('kind');
  if (!STATUSES.includes(row.status as TokenStatus)) throw corrupt('status');
  if (!GRANTS.includes(row.grant as TokenGrant)) throw corrupt('token_grant');
  return row as unknown as TokenRow;
}

/** Bytewise comparison of two strings (UTF-8 code units), the order every listing uses. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Bytewise comparison of two keys on (app, shop, kind, userId). */
export function compareKeys(a: TokenKey, b: TokenKey): number {
  return (
    compareBytes(a.app, b.app) ||
    compareBytes(a.shop, b.shop) ||
    compareBytes(a.kind, b.kind) ||
    compareBytes(a.userId, b.userId)
  );
}

/** Checks a page size (1 to 10,000); throws a TypeError otherwise. */
export function checkLimit(limit: unknown): number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 10_000) {
    throw new TypeError('limit must be an integer from 1 to 10000');
  }
  return limit as number;
}

/**
 * The time a row has on the keeper's `index`, or null when the row is not in that index (the
 * contract's definition of the due indexes, shared by the backends that compute it themselves).
 */
export function dueTime(row: TokenRow, index: DueIndex): number | null {
  if (row.kind !== 'offline' || row.status !== 'active') return null;
  if (index === 'renew') return row.renewAt;
  if (row.refreshToken === null) return null;
  return index === 'access' ? row.expiresAt : row.refreshTokenExpiresAt;
}

/**
 * Refuses a key whose kind and user disagree — an offline row has the user `''`, an online row a
 * user — with a TypeError; for backends whose schema cannot say it (MySQL without CHECK, Redis).
 */
export function checkKeyShape(key: TokenKey): void {
  if ((key.kind === 'offline') !== (key.userId === '')) {
    throw new TypeError("a token row's kind and user disagree: offline rows have the user '', online rows a user");
  }
}

/** Keys that differ only in their shop, as one `getMany` statement reads them (`… AND shop IN (…)`). */
export interface ShopGroup {
  app: string;
  kind: TokenKind;
  userId: string;
  shops: string[];
}

/** The keys of a `getMany`, checked: at most 100, each four strings (a TypeError otherwise). */
export function checkKeys(keys: readonly TokenKey[]): readonly TokenKey[] {
  if (!Array.isArray(keys) || keys.length > 100) throw new TypeError('getMany takes an array of at most 100 keys');
  for (const key of keys) {
    const { app, shop, kind, userId } = (key ?? {}) as Partial<Record<keyof TokenKey, unknown>>;
    if (typeof app !== 'string' || typeof shop !== 'string' || typeof kind !== 'string' || typeof userId !== 'string') {
      throw new TypeError('a key is { app, shop, kind, userId }, four strings');
    }
  }
  return keys;
}

/**
 * The keys of a `getMany` (checked by {@link checkKeys}), grouped by (app, kind, userId) in
 * first-seen order, each shop once.
 */
export function groupByShop(keys: readonly TokenKey[]): ShopGroup[] {
  const groups = new Map<string, ShopGroup & { seen: Set<string> }>();
  for (const { app, shop, kind, userId } of checkKeys(keys)) {
    const id = `${app.length}:${app}${kind}:${userId}`;
    const group = groups.get(id) ?? { app, kind, userId, shops: [], seen: new Set<string>() };
    groups.set(id, group);
    if (!group.seen.has(shop)) {
      group.seen.add(shop);
      group.shops.push(shop);
    }
  }
  return [...groups.values()].map(({ app, kind, userId, shops }) => ({ app, kind, userId, shops }));
}
