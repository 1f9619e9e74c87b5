/**
 * Token rows on PostgreSQL, each call one statement built from the row codec's column lists:
 * `put` is one upsert that updates every column but the key and the kept ones (`created_at`,
 * `installed_at`); `swap` is one `UPDATE … WHERE <key> AND <sealed value> = $n`, which PostgreSQL
 * re-checks on the newest row version after waiting for a concurrent writer, so of several writers
 * holding the same version exactly one updates a row; listings page on the primary key with a
 * row-value comparison, in the key columns' bytewise (`COLLATE "C"`) order.
 */

import {
  checkKeys,
  KEY_COLUMNS,
  keyOf,
  rowFromRecord,
  rowValues,
  TOKEN_COLUMNS,
  UPDATED_COLUMNS,
} from '../row-codec.ts';
import type { Expected, ListQuery, TokenKey, TokenRow } from '../types.ts';
import type { Db } from './connection.ts';

/** Every column, in codec order, for SELECT lists and INSERTs. */
export const SELECTED = TOKEN_COLUMNS.map(({ column }) => column).join(', ');

/** `$from`, `$from+1`, … for `count` parameters. */
export const placeholders = (count: number, from = 1): string =>
  Array.from({ length: count }, (_, index) => `$${from + index}`).join(', ');

/** `app = $1 AND shop = $2 AND kind = $3 AND user_id = $4`. */
const KEY = KEY_COLUMNS.map(({ column }, index) => `${column} = $${index + 1}`).join(' AND ');
/** The key columns, the order of every listing (and of the primary key). */
const ORDER = KEY_COLUMNS.map(({ column }) => column).join(', ');
const keyValues = (key: TokenKey): unknown[] => KEY_COLUMNS.map(({ field }) => key[field as keyof TokenKey]);

/** PostgreSQL text cannot hold NUL: no row has such a key, and sending one would fail the statement. */
const storable = (values: readonly string[]): boolean => values.every((value) => !value.includes('\0'));

/** The rows of a result, checked by the codec (BIGINT columns arrive as strings). */
export const rowsOf = (records: readonly Record<string, unknown>[]): TokenRow[] =>
  records.map((record) => rowFromRecord(record));

/** The row statements of the token table of `db`. */
export function tokenRows(db: Db) {
  const tokens = db.table('shoptoken_tokens');
  const getText = `SELECT ${SELECTED} FROM ${tokens} WHERE ${KEY}`;
  // Migration 3's function: one primary-key lookup per key, its plan kept by the connection.
  const getManyText = `SELECT ${SELECTED} FROM ${db.table('shoptoken_read_tokens')}($1, $2, $3, $4)`;
  const upserted = UPDATED_COLUMNS.map(({ column }) => `${column} = EXCLUDED.${column}`).join(', ');
  const putText = `INSERT INTO ${tokens} (${SELECTED}) VALUES (${placeholders(TOKEN_COLUMNS.length)})
    ON CONFLICT (${ORDER}) DO UPDATE SET ${upserted}`;
  // The key ($1–$4), the expected sealed value ($5), then the updated columns.
  const expected = KEY_COLUMNS.length + 1;
  const updated = UPDATED_COLUMNS.map(({ column }, index) => `${column} = $${expected + 1 + index}`).join(', ');
  const swapText = (column: 'refresh_token' | 'access_token') =>
    `UPDATE ${tokens} SET ${updated} WHERE ${KEY} AND ${column} = $${expected}`;
  const swapRefresh = swapText('refresh_token');
  const swapAccess = swapText('access_token');
  const markInstalledText = `UPDATE ${tokens} SET installed_at = COALESCE(installed_at, $3)
    WHERE app = $1 AND shop = $2 AND kind = 'offline' AND user_id = ''`;
  const deleteOnlineText = `DELETE FROM ${tokens} WHERE app = $1 AND shop = $2 AND kind = 'online' AND user_id = $3`;
  const deleteShopText = `DELETE FROM ${tokens} WHERE app = $1 AND shop = $2`;

  return {
    async get(key: TokenKey): Promise<TokenRow | null> {
      const values = keyValues(key) as string[];
      if (!storable(values)) return null;
      const { rows } = await db.query('read a token row', getText, values);
      return rows[0] ? rowFromRecord(rows[0]) : null;
    },
    /** One statement for every key (at most 100), each looked up on the primary key. */
    async getMany(keys: readonly TokenKey[]): Promise<TokenRow[]> {
      const columns: string[][] = [[], [], [], []];
      for (const key of checkKeys(keys)) {
        const values = keyValues(key) as string[];
        if (storable(values)) values.forEach((value, index) => void columns[index]!.push(value));
      }
      if (columns[0]!.length === 0) return [];
      return rowsOf((await db.query('read token rows', getManyText, columns)).rows);
    },
    async put(row: TokenRow): Promise<void> {
      await db.query('write a token row', putText, rowValues(row));
    },
    async swap(key: TokenKey, expected: Expected, next: TokenRow): Promise<boolean> {
      const byRefresh = 'refreshToken' in expected;
      const values = [
        ...keyValues(key),
        byRefresh ? expected.refreshToken : expected.accessToken,
        ...rowValues({ ...next, ...keyOf(key) }, UPDATED_COLUMNS),
      ];
      const { rowCount } = await db.query('swap a token row', byRefresh ? swapRefresh : swapAccess, values);
      return rowCount === 1;
    },
    async markInstalled(app: string, shop: string, at: number): Promise<boolean> {
      const { rowCount } = await db.query('mark an install', markInstalledText, [app, shop, at]);
      return rowCount === 1;
    },
    async deleteOnline(app: string, shop: string, userId: string): Promise<boolean> {
      const { rowCount } = await db.query('delete a token row', deleteOnlineText, [app, shop, userId]);
      return rowCount === 1;
    },
    async deleteShop(app: string, shop: string): Promise<number> {
      const { rowCount } = await db.query('delete a shop’s token rows', deleteShopText, [app, shop]);
      return rowCount;
    },
    /** A page in (app, shop, kind, user_id) order, resumed with a row-value comparison on the primary key. */
    async list(query: ListQuery, limit: number): Promise<TokenRow[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.app !== undefined) {
        values.push(query.app);
        where.push(`app = $${values.length}`);
      }
      if (query.after !== undefined) {
        values.push(...keyValues(query.after));
        where.push(`(${ORDER}) > (${placeholders(KEY_COLUMNS.length, values.length - KEY_COLUMNS.length + 1)})`);
      }
      values.push(limit);
      const text = `SELECT ${SELECTED} FROM ${tokens} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${ORDER} LIMIT $${values.length}`;
      return rowsOf((await db.query('list token rows', text, values)).rows);
    },
  };
}
