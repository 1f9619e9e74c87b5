/**
 * The keeper's scans of due rows. Each index is a partial index on (app, time, shop) over an app's
 * active offline rows; the query repeats the index's condition word for word (as literals, so the
 * planner can prove the partial index applies), bounds the time, resumes strictly after a
 * (time, shop) cursor with a row-value comparison, and orders by (time, shop): an index range scan
 * that reads only the rows it returns, with no sort.
 */

import type { DueIndex, DueQuery, TokenRow } from '../types.ts';
import type { Db } from './connection.ts';
import { rowsOf, SELECTED } from './rows.ts';

/** Each index: its name, its time column and the rows it holds (its `WHERE`, as in migration 1). */
export const DUE_INDEXES: Record<DueIndex, { name: string; column: string; rows: string }> = {
  access: {
    name: 'shoptoken_tokens_due_access',
    column: 'expires_at',
    rows: "kind = 'offline' AND status = 'active' AND refresh_token IS NOT NULL",
  },
  refresh: {
    name: 'shoptoken_tokens_due_refresh',
    column: 'refresh_token_expires_at',
    rows: "kind = 'offline' AND status = 'active' AND refresh_token IS NOT NULL",
  },
  renew: {
    name: 'shoptoken_tokens_due_renew',
    column: 'renew_at',
    rows: "kind = 'offline' AND status = 'active' AND renew_at IS NOT NULL",
  },
};

/**
 * The statement of one page of `index` (exported so a test can EXPLAIN exactly what runs).
 *
 * @example
 * const { text, values } = dueStatement(db.table('shoptoken_tokens'), 'access', { app: '', before: Date.now(), limit: 100 });
 */
export function dueStatement(
  tokens: string,
  index: DueIndex,
  query: DueQuery & { limit: number },
): { text: string; values: unknown[] } {
  const { column, rows } = DUE_INDEXES[index];
  const values: unknown[] = [query.app, query.before];
  let after = '';
  if (query.after !== undefined) {
    values.push(query.after.at, query.after.shop);
    after = `AND (${column}, shop) > ($3, $4)`;
  }
  values.push(query.limit);
  const text = `SELECT ${SELECTED} FROM ${tokens}
    WHERE app = $1 AND ${rows} AND ${column} <= $2 ${after}
    ORDER BY ${column}, shop LIMIT $${values.length}`;
  return { text, values };
}

/** Reads one page of `index` (`limit` already checked). */
export async function dueRows(db: Db, index: DueIndex, query: DueQuery, limit: number): Promise<TokenRow[]> {
  const { text, values } = dueStatement(db.table('shoptoken_tokens'), index, { ...query, limit });
  return rowsOf((await db.query('scan due token rows', text, values)).rows);
}
