/**
 * The keeper's scans of due rows. MySQL has no partial index, so each index covers a generated
 * column (migration 1) that holds the row's time while the row is in that index — an app's active
 * offline rows, with a refresh token for `access` and `refresh`, with a `renewAt` for `renew` — and
 * NULL otherwise; the index is on (app, that column, shop). A page bounds the column (which leaves
 * the NULLs out), resumes strictly after a (time, shop) cursor written as ORs (an index range on
 * both servers; a row-value comparison is not one on MariaDB), orders by (time, shop) and names
 * its index, so the scan reads only the rows it returns, with no sort, however few rows the table
 * has when the optimizer would otherwise guess.
 */

import { type ColumnValue, checkLimit } from '../row-codec.ts';
import type { DueIndex, DueQuery, TokenRow } from '../types.ts';
import type { Db } from './connection.ts';
import { rowsOf, SELECTED } from './rows.ts';

/** Each index: its name and the generated column it orders by. */
export const DUE_INDEXES: Record<DueIndex, { name: string; column: string }> = {
  access: { name: 'shoptoken_tokens_due_access', column: 'due_access' },
  refresh: { name: 'shoptoken_tokens_due_refresh', column: 'due_refresh' },
  renew: { name: 'shoptoken_tokens_due_renew', column: 'due_renew' },
};

/**
 * The statement of one page of `index` (exported so a test can EXPLAIN exactly what runs).
 *
 * @example
 * const { sql, values } = dueStatement('access', { app: '', before: Date.now(), limit: 100 });
 */
export function dueStatement(index: DueIndex, query: DueQuery): { sql: string; values: ColumnValue[] } {
  const { name, column } = DUE_INDEXES[index];
  const values: ColumnValue[] = [query.app, query.before];
  let after = '';
  if (query.after !== undefined) {
    values.push(query.after.at, query.after.at, query.after.shop);
    after = `AND (${column} > ? OR (${column} = ? AND shop > ?))`;
  }
  const sql = `SELECT ${SELECTED} FROM shoptoken_tokens FORCE INDEX (${name})
    WHERE app = ? AND ${column} <= ? ${after}
    ORDER BY ${column}, shop LIMIT ${checkLimit(query.limit)}`;
  return { sql, values };
}

/** Reads one page of `index`. */
export async function dueRows(db: Db, index: DueIndex, query: DueQuery): Promise<TokenRow[]> {
  const { sql, values } = dueStatement(index, query);
  return rowsOf(await db.rows('scan due token rows', sql, values));
}
