/**
 * `importSessions` from the Prisma `Session` table of Shopify's app templates, read with plain SQL
 * on SQLite, PostgreSQL and MySQL/MariaDB. The table is created here with the column types Prisma's
 * migrations give the template's model (no Prisma, no engine), and filled as
 * `@shopify/shopify-app-session-storage-prisma` fills it (`accessToken` '' when there is none,
 * `DateTime` columns in UTC; on SQLite both as epoch milliseconds, the classic engine's form, and as
 * ISO text, the driver adapters'), from sessions whose tokens the emulator issued.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, it } from 'node:test';
import type { Session } from '@shopify/shopify-api';
import { importAndCheck, RUN, scenario, world } from './fixtures.ts';
import { mysqlConnection, mysqlUrl, POSTGRES_URL, postgres, serviceTest } from './services.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-import-prisma-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = [
  'id',
  'shop',
  'state',
  'isOnline',
  'scope',
  'expires',
  'accessToken',
  'userId',
  'firstName',
  'lastName',
  'email',
  'accountOwner',
  'locale',
  'collaborator',
  'emailVerified',
  'refreshToken',
  'refreshTokenExpires',
] as const;

/** The row Prisma's session storage writes for `session` (its `sessionToRow`, restated). */
function prismaRow(session: Session): Record<(typeof COLUMNS)[number], unknown> {
  const user = session.onlineAccessInfo?.associated_user;
  return {
    id: session.id,
    shop: session.shop,
    state: session.state,
    isOnline: session.isOnline,
    scope: session.scope ?? null,
    expires: session.expires ?? null,
    accessToken: session.accessToken ?? '',
    userId: user?.id === undefined ? null : BigInt(user.id),
    firstName: user?.first_name ?? null,
    lastName: user?.last_name ?? null,
    email: user?.email ?? null,
    accountOwner: user?.account_owner ?? false,
    locale: user?.locale ?? null,
    collaborator: user?.collaborator ?? false,
    emailVerified: user?.email_verified ?? false,
    refreshToken: session.refreshToken ?? null,
    refreshTokenExpires: session.refreshTokenExpires ?? null,
  };
}

it('sqlite: imports the Prisma Session table (DateTime as epoch ms and as ISO text), found by its name', async () => {
  const { emulator, vault } = world();
  const tag = `ps${RUN}`;
  const expected = await scenario(emulator, tag);
  const file = join(dir, 'dev.sqlite');
  const db = new DatabaseSync(file);
  // The template's migration (prisma/migrations/…_create_session_table) for SQLite.
  db.exec(`CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY, "shop" TEXT NOT NULL, "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" DATETIME, "accessToken" TEXT NOT NULL,
    "userId" BIGINT, "firstName" TEXT, "lastName" TEXT, "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT, "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT, "refreshTokenExpires" DATETIME)`);
  const insert = db.prepare(
    `INSERT INTO "Session" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
  );
  expected.sessions.forEach((session, i) => {
    const row = prismaRow(session);
    const time = (value: unknown) =>
      value instanceof Date ? (i % 2 === 0 ? value.getTime() : value.toISOString().replace('Z', '+00:00')) : null;
    insert.run(
      ...COLUMNS.map((column) => {
        const value = row[column];
        if (column === 'expires' || column === 'refreshTokenExpires') return time(value);
        if (typeof value === 'boolean') return value ? 1 : 0;
        return value as string | bigint | null;
      }),
    );
  });
  db.close();
  await importAndCheck({ emulator, vault, expected, from: `file:${file}`, tag, layout: 'prisma' });
});

await serviceTest('postgres', 'imports the Prisma Session table (TIMESTAMP(3) in UTC) with --table', async (t) => {
  const schema = `prisma_${RUN}`;
  const client = await postgres();
  t.after(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  const { emulator, vault } = world();
  const tag = `pp${RUN}`;
  const expected = await scenario(emulator, tag);
  // Prisma's PostgreSQL types for the template's model.
  await client.query(`CREATE SCHEMA "${schema}"`);
  await client.query(`CREATE TABLE "${schema}"."Session" (
    "id" TEXT NOT NULL, "shop" TEXT NOT NULL, "state" TEXT NOT NULL, "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT, "expires" TIMESTAMP(3), "accessToken" TEXT NOT NULL, "userId" BIGINT, "firstName" TEXT,
    "lastName" TEXT, "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false, "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false, "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3), CONSTRAINT "Session_pkey" PRIMARY KEY ("id"))`);
  // A session time zone far from UTC: the stored values must still be UTC, as Prisma writes them.
  await client.query(`SET TIME ZONE 'America/New_York'`);
  for (const session of expected.sessions) {
    const row = prismaRow(session);
    const values = COLUMNS.map((column) => {
      const value = row[column];
      if (value instanceof Date) return value.toISOString();
      if (typeof value === 'bigint') return value.toString();
      return value;
    });
    const placeholders = COLUMNS.map((column, i) =>
      column === 'expires' || column === 'refreshTokenExpires'
        ? `($${i + 1}::timestamptz AT TIME ZONE 'UTC')`
        : `$${i + 1}`,
    );
    await client.query(
      `INSERT INTO "${schema}"."Session" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders.join(', ')})`,
      values,
    );
  }
  const from = `${POSTGRES_URL}?schema=${schema}&connection_limit=1`;
  await importAndCheck({ emulator, vault, expected, from, table: 'Session', tag, layout: 'prisma' });
});

await serviceTest('mysql', 'imports the Prisma Session table (DATETIME(3) in UTC), found by its name', async (t) => {
  const database = `shoptoken_prisma_${RUN}`;
  const admin = await mysqlConnection();
  await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`);
  await admin.end();
  t.after(async () => {
    const connection = await mysqlConnection();
    await connection.query(`DROP DATABASE IF EXISTS ${database}`);
    await connection.end();
  });
  const { emulator, vault } = world();
  const tag = `pm${RUN}`;
  const expected = await scenario(emulator, tag);
  const connection = await mysqlConnection(database);
  try {
    // Prisma's MySQL types for the template's model.
    await connection.query(`CREATE TABLE \`Session\` (
      \`id\` VARCHAR(191) NOT NULL, \`shop\` VARCHAR(191) NOT NULL, \`state\` VARCHAR(191) NOT NULL,
      \`isOnline\` BOOLEAN NOT NULL DEFAULT false, \`scope\` VARCHAR(191) NULL, \`expires\` DATETIME(3) NULL,
      \`accessToken\` VARCHAR(191) NOT NULL, \`userId\` BIGINT NULL, \`firstName\` VARCHAR(191) NULL,
      \`lastName\` VARCHAR(191) NULL, \`email\` VARCHAR(191) NULL, \`accountOwner\` BOOLEAN NOT NULL DEFAULT false,
      \`locale\` VARCHAR(191) NULL, \`collaborator\` BOOLEAN NULL DEFAULT false,
      \`emailVerified\` BOOLEAN NULL DEFAULT false, \`refreshToken\` VARCHAR(191) NULL,
      \`refreshTokenExpires\` DATETIME(3) NULL, PRIMARY KEY (\`id\`)
    ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.query(`SET time_zone = '-05:00'`);
    for (const session of expected.sessions) {
      const row = prismaRow(session);
      const values = COLUMNS.map((column) => {
        const value = row[column];
        if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
        if (typeof value === 'bigint') return value.toString();
        return value;
      });
      await connection.query(
        `INSERT INTO \`Session\` (${COLUMNS.map((c) => `\`${c}\``).join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        values,
      );
    }
  } finally {
    await connection.end();
  }
  await importAndCheck({ emulator, vault, expected, from: mysqlUrl(database), tag, layout: 'prisma' });
});
