/**
 * Sessions in PostgreSQL, written by `@shopify/shopify-app-session-storage-postgresql` or by Prisma,
 * read with plain SQL (`pg`) on one connection, read-only. The schema is the URL's `schema`
 * parameter (Prisma's), else `public`; Prisma's other URL parameters are ignored. Date-time columns
 * (Prisma's `TIMESTAMP(3)`, UTC) are read as epoch milliseconds by the server.
 */

import type { Client, ClientConfig } from 'pg';
import { ConfigError } from '../../errors.ts';
import { loadDriver, type SessionSource, type SourceLocation, sourceError } from '../source.ts';
import { chooseTable, keysetPages, tableLayout } from '../sql-layout.ts';

/** URL parameters Prisma reads that libpq does not know. */
const PRISMA_PARAMS = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'statement_cache_size',
  'socket_timeout',
  'connect_timeout',
  'sslaccept',
];

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Opens the sessions table of the PostgreSQL database at `location`. */
export async function openPostgresSource(
  location: Extract<SourceLocation, { backend: 'postgres' }>,
  table: string | undefined,
): Promise<SessionSource> {
  let parsed: URL;
  try {
    parsed = new URL(location.url);
  } catch {
    throw new ConfigError(['--from is not a valid postgres:// URL']);
  }
  const schema = parsed.searchParams.get('schema') ?? 'public';
  for (const name of PRISMA_PARAMS) parsed.searchParams.delete(name);
  const driver = (await loadDriver('pg', 'pg', 'postgres://')) as {
    Client?: new (config: ClientConfig) => Client;
    default?: { Client: new (config: ClientConfig) => Client };
  };
  const ClientClass = driver.Client ?? driver.default?.Client;
  if (!ClientClass) throw sourceError(location, 'load the pg driver', new TypeError('pg exports no Client'));
  const client = new ClientClass({ connectionString: parsed.toString(), connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw sourceError(location, 'connect', error);
  }
  try {
    const where = `${location.display} (schema ${schema})`;
    const tables = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    const name = chooseTable(
      tables.rows.map((row) => row.table_name),
      table,
      where,
    );
    const described = await client.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [schema, name],
    );
    const columns = described.rows.map((row) => ({ name: row.column_name, type: row.data_type }));
    const { layout, id, dateColumns } = tableLayout(name, columns);
    const select = columns
      .map((column) =>
        dateColumns.includes(column.name)
          ? `(extract(epoch FROM ${quote(column.name)}) * 1000)::bigint AS ${quote(column.name)}`
          : quote(column.name),
      )
      .join(', ');
    const from = `${quote(schema)}.${quote(name)}`;
    const counted = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`);
    const total = counted.rows[0]?.n ?? 0;
    const text = `SELECT ${select} FROM ${from} WHERE ${quote(id)} > $1 ORDER BY ${quote(id)} LIMIT $2`;
    return {
      location,
      table: name,
      layout,
      total,
      pages: () => keysetPages(location, id, async (after, limit) => (await client.query(text, [after, limit])).rows),
      async close() {
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw sourceError(location, 'read the session table', error);
  }
}
