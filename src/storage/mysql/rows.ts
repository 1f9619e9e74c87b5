/**
 * Token rows on MySQL/MariaDB, each call one statement built from the row codec's column lists:
 * - `put` is one `INSERT … ON DUPLICATE KEY UPDATE` of every column but the key and the kept ones
 *   (`created_at`, `installed_at`), written `col = VALUES(col)`, the form both MariaDB and MySQL 8
 *   accept (MySQL 8.0.20+ deprecates it with a warning; its `AS new` alias is not in MariaDB);
 * - `swap` is one `UPDATE … WHERE <key> AND <sealed value> = ?`: InnoDB re-reads the newest row
 *   version after waiting for a concurrent writer's lock, so of several writers holding the same
 *   version exactly one matches. Its answer is the matched-rows count (the connection's
 *   `FOUND_ROWS` flag), so a write of values equal to the stored ones still reports true;
 * - listings page on the primary key, resumed with the key comparison spelled out as ORs (which
 *   both optimizers turn into an index range; MariaDB does not for a row-value comparison), in the
 *   binary columns' bytewise order.
 */

import {
  checkKeyShape,
  checkLimit,
  compareBytes,
  groupByShop,
  KEY_COLUMNS,
  keyOf,
  rowFromRecord,
  rowValues,
  type ShopGroup,
  TOKEN_COLUMNS,
  UPDATED_COLUMNS,
} from '../row-codec.ts';
import type { Expected, ListQuery, TokenKey, TokenRow } from '../types.ts';
import type { Db, Row } from './connection.ts';

/** Every column, in codec order, for SELECT lists and INSERTs. */
export const SELECTED = TOKEN_COLUMNS.map(({ column }) => column).join(', ');

const KEY = KEY_COLUMNS.map(({ column }) => `${column} = ?`).join(' AND ');
const keyValues = (key: TokenKey): string[] => KEY_COLUMNS.map(({ field }) => key[field as keyof TokenKey]);

/** The rows of a result, checked by the codec (binary columns arrive as Buffers, BIGINTs as numbers or strings). */
export const rowsOf = (records: readonly Row[]): TokenRow[] => records.map((record) => rowFromRecord(record));

/**
 * `(c1 > ? OR (c1 = ? AND (c2 > ? OR …)))`: strictly after `values` on `columns`, in order.
 * Returns the condition and its parameters.
 */
export function strictlyAfter(
  columns: readonly string[],
  values: readonly string[],
): { sql: string; values: string[] } {
  const [column, ...rest] = columns;
  const [value, ...others] = values;
  if (column === undefined || value === undefined) throw new TypeError('strictlyAfter() needs a column');
  if (rest.length === 0) return { sql: `${column} > ?`, values: [value] };
  const inner = strictlyAfter(rest, others);
  return { sql: `(${column} > ? OR (${column} = ? AND ${inner.sql}))`, values: [value, value, ...inner.values] };
}

const GET = `SELECT ${SELECTED} FROM shoptoken_tokens WHERE ${KEY}`;
/**
 * The statement reading one group of a `getMany` (a range per shop on the primary key). Exported so a
 * test can EXPLAIN it.
 */
export function getManyStatement({ app, kind, userId, shops }: ShopGroup): { sql: string; values: string[] } {
  return {
    sql: `SELECT ${SELECTED} FROM shoptoken_tokens WHERE app = ? AND kind = ? AND user_id = ?
      AND shop IN (${shops.map(() => '?').join(', ')})`,
    values: [app, kind, userId, ...shops],
  };
}
const PUT = `INSERT INTO shoptoken_tokens (${SELECTED}) VALUES (${TOKEN_COLUMNS.map(() => '?').join(', ')})
  ON DUPLICATE KEY UPDATE ${UPDATED_COLUMNS.map(({ column }) => `${column} = VALUES(${column})`).join(', ')}`;
const swapSql = (column: 'refresh_token' | 'access_token'): string =>
  `UPDATE shoptoken_tokens SET ${UPDATED_COLUMNS.map(({ column: name }) => `${name} = ?`).join(', ')}
   WHERE ${KEY} AND ${column} = ?`;
const SWAP_REFRESH = swapSql('refresh_token');
const SWAP_ACCESS = swapSql('access_token');
const MARK_INSTALLED = `UPDATE shoptoken_tokens SET installed_at = COALESCE(installed_at, ?)
  WHERE app = ? AND shop = ? AND kind = 'offline' AND user_id = ''`;
const DELETE_ONLINE = `DELETE FROM shoptoken_tokens WHERE app = ? AND shop = ? AND kind = 'online' AND user_id = ?`;
const DELETE_SHOP = 'DELETE FROM shoptoken_tokens WHERE app = ? AND shop = ?';

/**
 * The statement of one page of a listing, or null when the page is empty
 * by construction (the cursor is past the requested app). Exported so a test can EXPLAIN it.
 */
export function listStatement(query: ListQuery): { sql: string; values: string[] } | null {
  const limit = checkLimit(query.limit);
  const where: string[] = [];
  const values: string[] = [];
  let columns = KEY_COLUMNS.map(({ column }) => column);
  let cursor = query.after === undefined ? undefined : keyValues(query.after);
  if (query.app !== undefined) {
    where.push('app = ?');
    values.push(query.app);
    const side = cursor === undefined ? -1 : compareBytes(cursor[0]!, query.app);
    if (side > 0) return null;
    // A cursor in an earlier app starts this app from its beginning; in this app, it resumes on the rest of the key.
    cursor = side === 0 ? cursor?.slice(1) : undefined;
    columns = columns.slice(1);
  }
  if (cursor !== undefined) {
    const condition = strictlyAfter(columns, cursor);
    where.push(condition.sql);
    values.push(...condition.values);
  }
  // With the app fixed, the order is on the rest of the key: MariaDB sorts `WHERE app = ? ORDER BY app, …`
  // (it does not drop the constant column) but reads `ORDER BY shop, kind, user_id` in primary-key order.
  const sql = `SELECT ${SELECTED} FROM shoptoken_tokens ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${columns.join(', ')} LIMIT ${limit}`;
  return { sql, values };
}

/** The row statements of the token table of `db`. */
export function tokenRows(db: Db) {
  return {
    async get(key: TokenKey): Promise<TokenRow | null> {
      const [record] = await db.rows('read a token row', GET, keyValues(key));
      return record ? rowFromRecord(record) : null;
    },
    /** One statement per (app, kind, user) among the keys (a range on the primary key per shop). */
    async getMany(keys: readonly TokenKey[]): Promise<TokenRow[]> {
      const results = await Promise.all(
        groupByShop(keys).map((group) => {
          const { sql, values } = getManyStatement(group);
          return db.rows('read token rows', sql, values);
        }),
      );
      return results.flatMap((records) => rowsOf(records));
    },
    async put(row: TokenRow): Promise<void> {
      checkKeyShape(row);
      await db.affected('write a token row', PUT, rowValues(row));
    },
    async swap(key: TokenKey, expected: Expected, next: TokenRow): Promise<boolean> {
      const byRefresh = 'refreshToken' in expected;
      const values = [
        ...rowValues({ ...next, ...keyOf(key) }, UPDATED_COLUMNS),
        ...keyValues(key),
        byRefresh ? expected.refreshToken : expected.accessToken,
      ];
      return (await db.affected('swap a token row', byRefresh ? SWAP_REFRESH : SWAP_ACCESS, values)) === 1;
    },
    async markInstalled(app: string, shop: string, at: number): Promise<boolean> {
      return (await db.affected('mark an install', MARK_INSTALLED, [at, app, shop])) === 1;
    },
    async deleteOnline(app: string, shop: string, userId: string): Promise<boolean> {
      return (await db.affected('delete a token row', DELETE_ONLINE, [app, shop, userId])) === 1;
    },
    async deleteShop(app: string, shop: string): Promise<number> {
      return db.affected('delete a shop’s token rows', DELETE_SHOP, [app, shop]);
    },
    /** A page in (app, shop, kind, user_id) bytewise order. */
    async list(query: ListQuery): Promise<TokenRow[]> {
      const statement = listStatement(query);
      if (statement === null) {
        db.assertOpen();
        return [];
      }
      return rowsOf(await db.rows('list token rows', statement.sql, statement.values));
    },
  };
}
