/**
 * The SQL of the token table, built from the row codec's column list (the row is spelled out once,
 * in row-codec.ts). Every statement is prepared once per connection.
 */

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { KEY_COLUMNS, TOKEN_COLUMNS, UPDATED_COLUMNS } from '../row-codec.ts';
import type { DueIndex, TokenKind } from '../types.ts';

const ALL = TOKEN_COLUMNS.map(({ column }) => column).join(', ');
/**
 * A row's key with its kind written into the SQL (one statement per kind): a kind bound as a
 * parameter makes SQLite prepare the statement again at every run, because the due indexes are
 * partial on `kind = 'offline'` — three times slower for a point read.
 */
const keyOfKind = (kind: TokenKind): string =>
  KEY_COLUMNS.map(({ column }) => (column === 'kind' ? `kind = '${kind}'` : `${column} = ?`)).join(' AND ');
const perKind = (sql: (key: string) => string): Record<TokenKind, string> => ({
  offline: sql(keyOfKind('offline')),
  online: sql(keyOfKind('online')),
});
const SET = UPDATED_COLUMNS.map(({ column }) => `${column} = ?`).join(', ');
const UPSERT_SET = UPDATED_COLUMNS.map(({ column }) => `${column} = excluded.${column}`).join(', ');

/** Each due index: its column and the partial index's condition, repeated word for word so SQLite uses it. */
const DUE: Record<DueIndex, { column: string; where: string }> = {
  access: { column: 'expires_at', where: "kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active'" },
  refresh: {
    column: 'refresh_token_expires_at',
    where: "kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active'",
  },
  renew: { column: 'renew_at', where: "kind = 'offline' AND renew_at IS NOT NULL AND status = 'active'" },
};

const dueSql = (index: DueIndex, after: boolean): string => {
  const { column, where } = DUE[index];
  const cursor = after ? `AND (${column}, shop) > (?, ?)` : '';
  return `SELECT ${ALL} FROM shoptoken_tokens
    WHERE app = ? AND ${where} AND ${column} <= ? ${cursor}
    ORDER BY ${column}, shop LIMIT ?`;
};

const listSql = (byApp: boolean, after: boolean): string => {
  const conditions = [...(byApp ? ['app = ?'] : []), ...(after ? ['(app, shop, kind, user_id) > (?, ?, ?, ?)'] : [])];
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT ${ALL} FROM shoptoken_tokens ${where} ORDER BY app, shop, kind, user_id LIMIT ?`;
};

/** The prepared statements of one connection. */
export type TokenStatements = ReturnType<typeof prepareTokenStatements>;

export function prepareTokenStatements(db: DatabaseSync) {
  const prepare = (sql: string): StatementSync => db.prepare(sql);
  const prepareEach = (sql: Record<TokenKind, string>): Record<TokenKind, StatementSync> => ({
    offline: prepare(sql.offline),
    online: prepare(sql.online),
  });
  return {
    get: prepareEach(perKind((key) => `SELECT ${ALL} FROM shoptoken_tokens WHERE ${key}`)),
    put: prepare(
      `INSERT INTO shoptoken_tokens (${ALL}) VALUES (${TOKEN_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (app, shop, kind, user_id) DO UPDATE SET ${UPSERT_SET}`,
    ),
    swapRefresh: prepareEach(perKind((key) => `UPDATE shoptoken_tokens SET ${SET} WHERE ${key} AND refresh_token = ?`)),
    swapAccess: prepareEach(perKind((key) => `UPDATE shoptoken_tokens SET ${SET} WHERE ${key} AND access_token = ?`)),
    markInstalled: prepare(
      `UPDATE shoptoken_tokens SET installed_at = COALESCE(installed_at, ?)
       WHERE app = ? AND shop = ? AND kind = 'offline' AND user_id = ''`,
    ),
    deleteOnline: prepare(
      `DELETE FROM shoptoken_tokens WHERE app = ? AND shop = ? AND kind = 'online' AND user_id = ? AND user_id <> ''`,
    ),
    deleteShop: prepare('DELETE FROM shoptoken_tokens WHERE app = ? AND shop = ?'),
    list: {
      all: prepare(listSql(false, false)),
      app: prepare(listSql(true, false)),
      after: prepare(listSql(false, true)),
      appAfter: prepare(listSql(true, true)),
    },
    due: {
      access: { first: prepare(dueSql('access', false)), after: prepare(dueSql('access', true)) },
      refresh: { first: prepare(dueSql('refresh', false)), after: prepare(dueSql('refresh', true)) },
      renew: { first: prepare(dueSql('renew', false)), after: prepare(dueSql('renew', true)) },
    },
  };
}
