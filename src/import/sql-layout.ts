/**
 * Finding the session table in a SQL database and telling its layout. The adapters name it
 * `shopify_sessions` by default, Shopify's templates `Session` (Prisma's model name); `--table`
 * names another. A table is a session table when it has `id`, `shop`, `isOnline` and `accessToken`
 * (any case); it is Prisma's when `expires` is a date-time column (the adapters use epoch seconds).
 */

import { ConfigError } from '../errors.ts';
import { lowerKeys } from './records.ts';
import { PAGE_SIZE, type SessionLayout, type SourceLocation, type SourcePage, sourceError } from './source.ts';

/** The tables looked for when `--table` is not given, in this order. */
export const DEFAULT_TABLES: readonly string[] = ['shopify_sessions', 'Session'];

const REQUIRED = ['id', 'shop', 'isonline', 'accesstoken'];

/** A column as the database describes it. */
export interface ColumnInfo {
  name: string;
  /** The declared or data type (`integer`, `DATETIME`, `timestamp without time zone`, …). */
  type: string;
}

/**
 * The table to read among `tables`: `wanted` (exactly, else the one table equal to it ignoring
 * case), or the one default table present. Throws ConfigError saying what was found.
 */
export function chooseTable(tables: readonly string[], wanted: string | undefined, where: string): string {
  if (wanted !== undefined) {
    if (tables.includes(wanted)) return wanted;
    const folded = tables.filter((table) => table.toLowerCase() === wanted.toLowerCase());
    if (folded.length === 1) return folded[0]!;
    throw new ConfigError([`no table "${wanted}" in ${where}`]);
  }
  const found = DEFAULT_TABLES.flatMap((name) => {
    if (tables.includes(name)) return [name];
    return tables.filter((table) => table.toLowerCase() === name.toLowerCase());
  });
  const unique = [...new Set(found)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0) {
    throw new ConfigError([
      `no session table in ${where} (looked for ${DEFAULT_TABLES.join(' and ')}): name yours with --table`,
    ]);
  }
  throw new ConfigError([`${where} has several session tables (${unique.join(', ')}): choose one with --table`]);
}

/** The layout of `table` from its columns, and the real name of its `id` column. Throws ConfigError for a table that is not a session table. */
export function tableLayout(
  table: string,
  columns: readonly ColumnInfo[],
): { layout: SessionLayout; id: string; dateColumns: string[] } {
  const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column]));
  const missing = REQUIRED.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new ConfigError([
      `table "${table}" is not a Shopify session table: it has no ${missing.join(', ')} column (an unknown layout)`,
    ]);
  }
  const isDate = (column: ColumnInfo) => /date|time/i.test(column.type);
  const expires = byName.get('expires');
  return {
    layout: expires && isDate(expires) ? 'prisma' : 'session-storage',
    id: byName.get('id')!.name,
    dateColumns: columns.filter(isDate).map((column) => column.name),
  };
}

/**
 * The pages of a session table read in id order, each strictly after the last id of the one before
 * (keyset paging: a page reads only its rows). `query(after, limit)` runs the backend's
 * `… WHERE id > ? ORDER BY id LIMIT ?`; a failure is the source's, named by `location`.
 */
export async function* keysetPages(
  location: SourceLocation,
  id: string,
  query: (after: string, limit: number) => Promise<Record<string, unknown>[]>,
): AsyncGenerator<SourcePage> {
  let after = '';
  for (;;) {
    let rows: Record<string, unknown>[];
    try {
      rows = await query(after, PAGE_SIZE);
    } catch (error) {
      throw sourceError(location, 'read the sessions', error);
    }
    if (rows.length === 0) return;
    yield rows.map(lowerKeys);
    if (rows.length < PAGE_SIZE) return;
    after = String(rows.at(-1)![id]);
  }
}
