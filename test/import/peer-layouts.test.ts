/**
 * `importSessions` from each layout of Shopify's session storage adapters, populated by the adapter
 * itself (`@shopify/shopify-app-session-storage-sqlite`, `-postgresql`, `-mysql`, `-redis`, the
 * devDependencies) with tokens the emulator issued: exact counts, a dry run that writes nothing, a
 * rerun that changes nothing, every imported token working against the emulator's Admin API, the
 * expiring ones refreshing, and no token in any report. Each server run uses a table, database or
 * key prefix of its own, dropped at the end.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { MySQLSessionStorage } from '@shopify/shopify-app-session-storage-mysql';
import { PostgreSQLSessionStorage } from '@shopify/shopify-app-session-storage-postgresql';
import { RedisSessionStorage } from '@shopify/shopify-app-session-storage-redis';
import { SQLiteSessionStorage } from '@shopify/shopify-app-session-storage-sqlite';
import { importSessions } from '../../src/import/import-sessions.ts';
import { importAndCheck, RUN, scenario, world } from './fixtures.ts';
import { mysqlConnection, mysqlUrl, POSTGRES_URL, postgres, REDIS_URL, redis, serviceTest } from './services.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-import-peer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('sqlite: imports what @shopify/shopify-app-session-storage-sqlite wrote', async () => {
  const { emulator, vault } = world();
  const tag = `sq${RUN}`;
  const expected = await scenario(emulator, tag);
  const file = join(dir, 'sessions.sqlite');
  const peer = new SQLiteSessionStorage(file);
  for (const session of expected.sessions) await peer.storeSession(session);
  await importAndCheck({ emulator, vault, expected, from: file, tag, layout: 'session-storage' });
  // The same file named as a URL, with the table named: the same sessions read.
  const { vault: other } = world();
  const again = await importSessions({ from: `sqlite:${file}`, vault: other, table: 'shopify_sessions', dryRun: true });
  assert.equal(again.read, expected.sessions.length);
});

await serviceTest('postgres', 'imports what @shopify/shopify-app-session-storage-postgresql wrote', async (t) => {
  const table = `shopify_sessions_${RUN}`;
  const migrations = `shopify_sessions_migrations_${RUN}`;
  t.after(async () => {
    const client = await postgres();
    await client.query(`DROP TABLE IF EXISTS "${table}", "${migrations}"`);
    await client.end();
  });
  const { emulator, vault } = world();
  const tag = `pg${RUN}`;
  const expected = await scenario(emulator, tag);
  const peer = new PostgreSQLSessionStorage(POSTGRES_URL, {
    sessionTableName: table,
    migratorOptions: { migrationDBIdentifier: migrations, migrationNameColumnName: 'migration_name' },
  });
  try {
    for (const session of expected.sessions) await peer.storeSession(session);
  } finally {
    await peer.disconnect();
  }
  await importAndCheck({ emulator, vault, expected, from: POSTGRES_URL, table, tag, layout: 'session-storage' });
});

await serviceTest('mysql', 'imports what @shopify/shopify-app-session-storage-mysql wrote', async (t) => {
  const database = `shoptoken_import_${RUN}`;
  const admin = await mysqlConnection();
  await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`);
  await admin.end();
  t.after(async () => {
    const connection = await mysqlConnection();
    await connection.query(`DROP DATABASE IF EXISTS ${database}`);
    await connection.end();
  });
  const { emulator, vault } = world();
  const tag = `my${RUN}`;
  const expected = await scenario(emulator, tag);
  const peer = new MySQLSessionStorage(mysqlUrl(database));
  try {
    for (const session of expected.sessions) await peer.storeSession(session);
  } finally {
    await peer.disconnect();
  }
  // The table is found by its default name.
  await importAndCheck({ emulator, vault, expected, from: mysqlUrl(database), tag, layout: 'session-storage' });
});

await serviceTest('redis', 'imports what @shopify/shopify-app-session-storage-redis wrote', async (t) => {
  const prefix = `shopify_sessions_${RUN}`;
  t.after(async () => {
    const client = await redis();
    const keys = await client.keys(`${prefix}_*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });
  const { emulator, vault } = world();
  const tag = `rd${RUN}`;
  const expected = await scenario(emulator, tag);
  const peer = new RedisSessionStorage(REDIS_URL, { sessionKeyPrefix: prefix });
  try {
    for (const session of expected.sessions) await peer.storeSession(session);
  } finally {
    await peer.disconnect();
  }
  // Another app's key under the same prefix: read, and skipped as not a session.
  const client = await redis();
  await client.set(`${prefix}_not-a-session`, 'not json');
  client.disconnect();
  await importAndCheck({
    emulator,
    vault,
    expected,
    from: REDIS_URL,
    table: prefix,
    tag,
    extraMalformed: 1,
    layout: 'session-storage',
  });
});
