/**
 * Sessions in MySQL or MariaDB, written by `@shopify/shopify-app-session-storage-mysql` or by Prisma,
 * read with plain SQL (`mysql2`) on one connection, read-only. Date-time columns (Prisma's
 * `DATETIME(3)`, which holds UTC) are read as text and taken as UTC, whatever the session time zone.
 * The URL's query parameters are Prisma's or the adapter's and are ignored, except `ssl=true`.
 */

import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { ConfigError } from '../../errors.ts';
import { loadDriver, type SessionSource, type SourceLocation, sourceError } from '../source.ts';
import { chooseTable, keysetPages, tableLayout } from '../sql-layout.ts';

const quote = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

function connectionOptions(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(['--from is not a valid mysql:// URL']);
  }
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new ConfigError(['--from: the mysql:// URL has broken percent-encoding']);
    }
  };
  const database = decode(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new ConfigError([
      '--from: the mysql:// URL must name one database (mysql://user:password@host:3306/database)',
    ]);
  }
  const ssl = parsed.searchParams.get('ssl') === 'true' || parsed.searchParams.get('sslmode') === 'require';
  return {
    host: decode(parsed.hostname.replace(/^\[(.*)\]$/, '$1')),
    port: parsed.port ? Number(parsed.port) : 3306,
    ...(parsed.username ? { user: decode(parsed.username) } : {}),
    ...(parsed.password ? { password: decode(parsed.password) } : {}),
    database,
    ...(ssl ? { ssl: {} } : {}),
    connectTimeout: 10_000,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  };
}

/** Opens the sessions table of the MySQL/MariaDB database at `location`. */
export async function openMysqlSource(
  location: Extract<SourceLocation, { backend: 'mysql' }>,
  table: string | undefined,
): Promise<SessionSource> {
  const options = connectionOptions(location.url);
  const driver = (await loadDriver('mysql2/promise', 'mysql2', 'mysql://')) as {
    createConnection?: (options: ConnectionOptions) => Promise<Connection>;
    default?: { createConnection: (options: ConnectionOptions) => Promise<Connection> };
  };
  const createConnection = driver.createConnection ?? driver.default?.createConnection;
  if (!createConnection) throw sourceError(location, 'load the mysql2 driver', new TypeError('no createConnection'));
  let connection: Connection;
  try {
    connection = await createConnection(options);
  } catch (error) {
    throw sourceError(location, 'connect', error);
  }
  connection.on('error', () => undefined);
  try {
    const [tables] = await connection.query(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    );
    const name = chooseTable(
      (tables as { name: string }[]).map((row) => String(row.name)),
      table,
      location.display,
    );
    const [described] = await connection.query(
      'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS ' +
        'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [name],
    );
    const columns = (described as { name: string; type: string }[]).map((row) => ({
      name: String(row.name),
      type: String(row.type),
    }));
    const { layout, id } = tableLayout(name, columns);
    const [counted] = await connection.query(`SELECT COUNT(*) AS n FROM ${quote(name)}`);
    const total = Number((counted as { n: unknown }[])[0]?.n ?? 0);
    const text = `SELECT * FROM ${quote(name)} WHERE ${quote(id)} > ? ORDER BY ${quote(id)} LIMIT ?`;
    return {
      location,
      table: name,
      layout,
      total,
      pages: () =>
        keysetPages(
          location,
          id,
          async (after, limit) => (await connection.query(text, [after, limit]))[0] as Record<string, unknown>[],
        ),
      async close() {
        await connection.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw sourceError(location, 'read the session table', error);
  }
}
