/**
 * Sessions in a SQLite file, written by `@shopify/shopify-app-session-storage-sqlite` or by Prisma
 * (the templates' `Session` table), read through `node:sqlite`, read-only: the file is never changed.
 */

import { existsSync } from 'node:fs';
// Types only: `node:sqlite` is loaded when a file is opened (see the Node guard).
import type { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../../errors.ts';
import { type SessionSource, type SourceLocation, sourceError } from '../source.ts';
import { chooseTable, keysetPages, tableLayout } from '../sql-layout.ts';

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Opens the sessions table of the SQLite file at `location` (`table`, or the one found). */
export async function openSqliteSource(
  location: Extract<SourceLocation, { backend: 'sqlite' }>,
  table: string | undefined,
): Promise<SessionSource> {
  if (!existsSync(location.path)) throw new ConfigError([`no SQLite database at ${location.path}`]);
  let db: DatabaseSync;
  try {
    db = new (process.getBuiltinModule('node:sqlite').DatabaseSync)(location.path, { readOnly: true });
  } catch (error) {
    throw sourceError(location, 'open the SQLite database', error);
  }
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => String(row.name));
    const name = chooseTable(tables, table, location.display);
    const columns = db
      .prepare('SELECT name, type FROM pragma_table_info(?)')
      .all(name)
      .map((row) => ({ name: String(row.name), type: String(row.type ?? '') }));
    const { layout, id } = tableLayout(name, columns);
    const total = Number(db.prepare(`SELECT COUNT(*) AS n FROM ${quote(name)}`).get()?.n ?? 0);
    const page = db.prepare(`SELECT * FROM ${quote(name)} WHERE ${quote(id)} > ? ORDER BY ${quote(id)} LIMIT ?`);
    return {
      location,
      table: name,
      layout,
      total,
      pages: () =>
        keysetPages(location, id, async (after, limit) => page.all(after, limit) as Record<string, unknown>[]),
      async close() {
        db.close();
      },
    };
  } catch (error) {
    db.close();
    if (error instanceof ConfigError) throw error;
    throw sourceError(location, 'read the session table', error);
  }
}
