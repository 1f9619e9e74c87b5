/**
 * The MySQL/MariaDB storage against a real server (SHOPTOKEN_TEST_MYSQL_URL, default the local
 * MariaDB): the storage battery, then what only MySQL has — migrations under concurrent opens, the
 * schema against the row codec, bytewise keys where the server's collations would not be, matched
 * versus changed rows, the due queries' plans, server-clock leases, connections the server kills,
 * and several processes rotating the same shops. Each run works in databases of its own (random
 * names), dropped at the end. Without a server the suites are skipped with a printed reason,
 * unless SHOPTOKEN_REQUIRE_SERVICES=1 (CI), where that is a failure.
 * (URL, driver and connection errors without a server: mysql-config.test.ts.)
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { ShoptokenError } from '../../src/errors.ts';
import type { MigrationReport } from '../../src/storage/migrations.ts';
import { connect } from '../../src/storage/mysql/connection.ts';
import { DUE_INDEXES, dueStatement } from '../../src/storage/mysql/due.ts';
import { MYSQL_MIGRATIONS, openMysqlStorage } from '../../src/storage/mysql/index.ts';
import { getManyStatement, listStatement } from '../../src/storage/mysql/rows.ts';
import { parseMysqlUrl } from '../../src/storage/mysql/url.ts';
import { TOKEN_COLUMNS } from '../../src/storage/row-codec.ts';
import type { DueIndex } from '../../src/storage/types.ts';
import { WEBHOOK_COLUMNS } from '../../src/storage/webhook-codec.ts';
import { offlineKey, offlineRow, onlineKey, onlineRow, sealed } from '../../src/testing/fixtures.ts';
import { runStorageConformance } from '../../src/testing/index.ts';
import { assertRotatedOnceAcrossProcesses } from '../helpers/rotation-processes.ts';
import { checkOneConnectionPool } from '../helpers/small-pool.ts';

const BASE = process.env.SHOPTOKEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const RUN = randomBytes(4).toString('hex');
const LATEST = MYSQL_MIGRATIONS.length;
const SHOP = 'cool-shop.myshopify.com';

/** A connection to BASE's server, outside the storage (creating databases, inspecting tables). */
async function adminConnection(database?: string): Promise<mysql.Connection> {
  const settings = parseMysqlUrl(BASE);
  const connection = await mysql.createConnection({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: database ?? settings.database,
    connectTimeout: 3000,
    charset: 'UTF8MB4_BIN',
    supportBigNumbers: true,
    ...(settings.ssl ? { ssl: settings.ssl } : {}),
  });
  connection.on('error', () => undefined);
  return connection;
}

/** Why the server cannot be used, or null when it can. */
async function unreachable(): Promise<string | null> {
  try {
    const connection = await adminConnection();
    await connection.end();
    return null;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return `MySQL/MariaDB at SHOPTOKEN_TEST_MYSQL_URL is not reachable (${code ?? message})`;
  }
}

const reason = await unreachable();
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('MySQL/MariaDB is reachable (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the mysql storage tests: ${reason}`);
  describe('mysql storage', { skip: reason }, () => undefined);
}

function declareSuites(): void {
  const databases: string[] = [];
  let adminPromise: Promise<mysql.Connection> | undefined;
  const admin = (): Promise<mysql.Connection> => {
    adminPromise ??= adminConnection();
    return adminPromise;
  };

  /** A database of this run (created now, dropped at the end) and the URL naming it. */
  const freshDatabase = async (what: string): Promise<{ name: string; url: string }> => {
    const name = `shoptoken_test_${RUN}_${what}`;
    databases.push(name);
    await (await admin()).query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    const url = new URL(BASE);
    url.pathname = `/${name}`;
    return { name, url: url.toString() };
  };
  /** The main database's URL, with `params`. */
  let main: { name: string; url: string } | undefined;
  const mainDatabase = async (): Promise<{ name: string; url: string }> => {
    main ??= await freshDatabase('main');
    return main;
  };
  const urlWith = (base: string, params: Record<string, string>): string => {
    const url = new URL(base);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const open = async (params: Record<string, string> = {}) =>
    openMysqlStorage(urlWith((await mainDatabase()).url, params));

  after(async () => {
    if (adminPromise === undefined) return;
    const connection = await adminPromise;
    for (const name of databases) await connection.query(`DROP DATABASE IF EXISTS ${name}`);
    await connection.end();
  });

  runStorageConformance('mysql', () => open(), { shared: true });

  describe('mysql storage: migrations', () => {
    it('8 instances opening a fresh database at once apply each version exactly once', async () => {
      const fresh = await freshDatabase('fresh');
      const reports: MigrationReport[] = [];
      const stores = await Promise.all(
        Array.from({ length: 8 }, () => openMysqlStorage(fresh.url, { onMigrated: (report) => reports.push(report) })),
      );
      await Promise.all(stores.map((store) => store.close()));
      const [rows] = await (await admin()).query(
        `SELECT version, COUNT(*) AS n FROM ${fresh.name}.shoptoken_schema GROUP BY version ORDER BY version`,
      );
      assert.deepEqual(
        (rows as { version: number; n: number }[]).map(({ version, n }) => ({ version, n: Number(n) })),
        Array.from({ length: LATEST }, (_, i) => ({ version: i + 1, n: 1 })),
      );
      assert.equal(reports.length, 8, 'onMigrated is called by every open');
      assert.equal(reports.filter((report) => report.applied.length > 0).length, 1, 'one instance applied them');
      assert.ok(reports.every((report) => report.to === LATEST));
      const again: MigrationReport[] = [];
      const reopened = await openMysqlStorage(fresh.url, { onMigrated: (report) => again.push(report) });
      await reopened.close();
      assert.deepEqual(again, [{ from: LATEST, to: LATEST, applied: [] }]);
    });

    it('a process that died between a version’s DDL and its record: the next open repeats it safely', async () => {
      const fresh = await freshDatabase('halfway');
      const connection = await adminConnection(fresh.name);
      try {
        for (const statement of MYSQL_MIGRATIONS[0]!.statements.slice(0, 2)) await connection.query(statement);
      } finally {
        await connection.end();
      }
      const reports: MigrationReport[] = [];
      const storage = await openMysqlStorage(fresh.url, { onMigrated: (report) => reports.push(report) });
      try {
        assert.deepEqual(
          reports[0]?.applied.map(({ version }) => version),
          Array.from({ length: LATEST }, (_, i) => i + 1),
        );
        await storage.states.save(`halfway-${RUN}`, 'v', 1e13);
        assert.equal(await storage.states.take(`halfway-${RUN}`, 0), 'v');
      } finally {
        await storage.close();
      }
    });

    it('version 2 run again after a process died before recording it: token rows kept, authorizedAt null', async () => {
      const fresh = await freshDatabase('halfway2');
      const connection = await adminConnection(fresh.name);
      const app = `halfway2-${RUN}`;
      try {
        // Version 1 applied and recorded by an older shoptoken, with a row of its time…
        await (await openMysqlStorage(fresh.url)).close();
        await connection.query('DELETE FROM shoptoken_schema WHERE version >= 2');
        await connection.query('DROP TABLE shoptoken_webhooks');
        await connection.query('ALTER TABLE shoptoken_tokens DROP COLUMN authorized_at');
        await connection.query(
          `INSERT INTO shoptoken_tokens (app, shop, kind, user_id, access_token, scopes, created_at, updated_at, status,
             refresh_failures, token_grant) VALUES (?, ?, 'offline', '', 'a', 's', 1, 1, 'active', 0, 'authorization_code')`,
          [app, SHOP],
        );
        // …then every statement of version 2 run, twice, and the process gone before its record.
        for (const statement of [...MYSQL_MIGRATIONS[1]!.statements, ...MYSQL_MIGRATIONS[1]!.statements]) {
          await connection.query(statement);
        }
        const [variables] = await connection.query('SELECT @shoptoken_ddl AS ddl');
        assert.deepEqual(variables, [{ ddl: null }], 'nothing is left in the session');
      } finally {
        await connection.end();
      }
      const reports: MigrationReport[] = [];
      const storage = await openMysqlStorage(fresh.url, { onMigrated: (report) => reports.push(report) });
      try {
        assert.deepEqual(
          reports[0]?.applied.map(({ version }) => version),
          [2],
        );
        const row = await storage.get(offlineKey(app, SHOP));
        assert.equal(row?.authorizedAt, null);
        await storage.put({ ...row!, authorizedAt: 1234 });
        assert.equal((await storage.get(offlineKey(app, SHOP)))?.authorizedAt, 1234);
      } finally {
        await storage.deleteShop(app, SHOP);
        await storage.close();
      }
    });

    it('refuses a database newer than this code, and lets go of its connections', async () => {
      const fresh = await freshDatabase('newer');
      await (await openMysqlStorage(fresh.url)).close();
      await (await admin()).query(`INSERT INTO ${fresh.name}.shoptoken_schema VALUES (?, 'from the future', 0)`, [
        LATEST + 1,
      ]);
      await assert.rejects(openMysqlStorage(fresh.url), (error: ShoptokenError) => {
        assert.equal(error.code, 'ERR_STORAGE');
        assert.match(error.message, /newer than this shoptoken knows/);
        return true;
      });
    });

    it('the token table has the row codec’s columns, nullability and types; keys and sealed values are binary', async () => {
      const { name } = await mainDatabase();
      await (await open()).close();
      const [rows] = await (await admin()).query(
        `SELECT column_name AS name, is_nullable AS nullable, data_type AS type, extra FROM information_schema.columns
         WHERE table_schema = ? AND table_name = 'shoptoken_tokens' ORDER BY ordinal_position`,
        [name],
      );
      const columns = (rows as { name: string; nullable: string; type: string; extra: string }[]).filter(
        (row) => !/GENERATED/i.test(row.extra),
      );
      assert.deepEqual(
        columns.map((row) => row.name),
        TOKEN_COLUMNS.map(({ column }) => column),
      );
      for (const [index, { column, type }] of TOKEN_COLUMNS.entries()) {
        const row = columns[index]!;
        assert.equal(row.nullable === 'YES', type.endsWith('?'), `${column} nullability`);
        if (type.startsWith('integer')) assert.equal(row.type, 'bigint', `${column} type`);
        if (index < 4) assert.equal(row.type, 'varbinary', `${column} is bytewise`);
      }
      for (const column of ['access_token', 'refresh_token', 'previous_refresh_token', 'associated_user']) {
        assert.equal(columns.find((row) => row.name === column)?.type, 'blob', `${column} is compared byte for byte`);
      }
    });

    it('the webhook table has the webhook codec’s columns, nullability and types; keys and owners are binary', async () => {
      const { name } = await mainDatabase();
      await (await open()).close();
      const [rows] = await (await admin()).query(
        `SELECT column_name AS name, is_nullable AS nullable, data_type AS type, column_type AS full
         FROM information_schema.columns
         WHERE table_schema = ? AND table_name = 'shoptoken_webhooks' ORDER BY ordinal_position`,
        [name],
      );
      const columns = rows as { name: string; nullable: string; type: string; full: string }[];
      assert.deepEqual(
        columns.map((row) => row.name),
        WEBHOOK_COLUMNS.map(({ column }) => column),
      );
      for (const [index, { column, type }] of WEBHOOK_COLUMNS.entries()) {
        const row = columns[index]!;
        assert.equal(row.nullable === 'YES', type.endsWith('?'), `${column} nullability`);
        if (type.startsWith('integer')) assert.equal(row.type, 'bigint', `${column} type`);
      }
      const typeOf = (column: string) => columns.find((row) => row.name === column);
      for (const column of ['app', 'webhook_id', 'shop', 'owner']) {
        assert.equal(typeOf(column)?.type, 'varbinary', `${column} is bytewise`);
      }
      assert.equal(typeOf('delivery')?.type, 'longblob');
      assert.equal(typeOf('state')?.full, "enum('pending','done','dead')");
    });
  });

  describe('mysql storage: bytewise keys and matched rows', () => {
    it('keys differing only in case, accents or trailing spaces are different rows, listed bytewise', async () => {
      // utf8mb4_bin is PAD SPACE on MariaDB and MySQL: '4' = '4 ' there, and '4' sorts after '4\t'.
      const storage = await open();
      const app = `bytes-${randomUUID()}`;
      try {
        for (const userId of ['4', '4 ', '4\t', '4é', '4e', '4E', '4😀']) {
          await storage.put(onlineRow(app, SHOP, { userId, scopes: `read_${userId}` }));
        }
        await storage.put(offlineRow(app, SHOP.toUpperCase()));
        const rows = await storage.list({ app, limit: 100 });
        assert.deepEqual(
          rows.map((row) => [row.shop, row.userId]),
          [
            [SHOP.toUpperCase(), ''],
            [SHOP, '4'],
            [SHOP, '4\t'],
            [SHOP, '4 '],
            [SHOP, '4E'],
            [SHOP, '4e'],
            [SHOP, '4é'],
            [SHOP, '4😀'],
          ],
        );
        for (const row of rows.slice(1)) assert.equal(row.scopes, `read_${row.userId}`);
        assert.equal(await storage.get(onlineKey(app, SHOP, '4  ')), null);
        assert.equal(await storage.deleteOnline(app, SHOP, '4 '), true);
        assert.equal((await storage.get(onlineKey(app, SHOP, '4')))?.userId, '4');
        const page = await storage.list({ app, limit: 100, after: onlineKey(app, SHOP, '4') });
        assert.deepEqual(
          page.map((row) => row.userId),
          ['4\t', '4E', '4e', '4é', '4😀'],
        );
      } finally {
        await storage.deleteShop(app, SHOP);
        await storage.deleteShop(app, SHOP.toUpperCase());
        await storage.close();
      }
    });

    it('compare-and-set compares sealed values byte for byte, and a write of equal values still reports true', async () => {
      const storage = await open();
      const app = `matched-${randomUUID()}`;
      const key = offlineKey(app, SHOP);
      try {
        const row = offlineRow(app, SHOP, { refreshToken: sealed('Refresh-1') });
        await storage.put(row);
        assert.equal(await storage.swap(key, { refreshToken: sealed('refresh-1') }, row), false, 'case');
        assert.equal(
          await storage.swap(key, { refreshToken: `${sealed('Refresh-1')} ` }, row),
          false,
          'trailing space',
        );
        assert.equal(await storage.swap(key, { refreshToken: sealed('Refresh-1') }, row), true, 'identical values');
        assert.equal(
          await storage.swap(key, { accessToken: row.accessToken }, row),
          true,
          'identical, by access token',
        );
        await storage.put(row);
        assert.deepEqual(await storage.get(key), row, 'a put of identical values is harmless');
      } finally {
        await storage.deleteShop(app, SHOP);
        await storage.close();
      }
    });

    it('round-trips the largest safe integers and 4-byte characters in every text column', async () => {
      const storage = await open();
      const app = `wide-${randomUUID()}-😀`;
      try {
        const row = offlineRow(app, SHOP, {
          expiresAt: Number.MAX_SAFE_INTEGER,
          refreshTokenExpiresAt: Number.MAX_SAFE_INTEGER - 1,
          createdAt: 0,
          updatedAt: 2 ** 52,
          refreshFailures: 2 ** 40,
          scopes: 'read_😀,write_é',
          lastRefreshError: 'ERR_😀',
          accessToken: sealed('ü😀'),
        });
        await storage.put(row);
        assert.deepEqual(await storage.get(offlineKey(app, SHOP)), row);
        await storage.states.save(`wide-${RUN}-😀`, '{"shop":"ü😀"}', 1e13);
        assert.equal(await storage.states.take(`wide-${RUN}-😀`, 0), '{"shop":"ü😀"}');
      } finally {
        await storage.deleteShop(app, SHOP);
        await storage.close();
      }
    });

    it('a key too long for its column is refused, never cut to a shorter key (strict mode on every connection)', async () => {
      const storage = await open();
      const app = `long-${randomUUID()}`;
      const long = `${'a'.repeat(260)}.myshopify.com`;
      try {
        await assert.rejects(storage.put(offlineRow(app, long)), (error: ShoptokenError) => {
          assert.equal(error.code, 'ERR_STORAGE');
          assert.equal(error.retryable, false);
          assert.equal(error.message, 'mysql storage could not write a token row (ER_DATA_TOO_LONG)');
          return true;
        });
        assert.deepEqual(await storage.list({ app, limit: 10 }), []);
      } finally {
        await storage.close();
      }
    });

    it('every pooled connection runs strict, in UTC, with the URL’s lock wait', async () => {
      const db = await connect(parseMysqlUrl(urlWith((await mainDatabase()).url, { pool: '3', lock_timeout: '7' })));
      try {
        const sessions = await Promise.all(
          [1, 2, 3].map(() =>
            db.session('read settings', async (session) => {
              await sleep(20);
              const [row] = await session.rows(
                'SELECT CONNECTION_ID() AS id, @@SESSION.sql_mode AS mode, @@SESSION.time_zone AS zone, @@SESSION.innodb_lock_wait_timeout AS wait',
              );
              return row!;
            }),
          ),
        );
        assert.equal(new Set(sessions.map((row) => row.id)).size, 3, 'three connections');
        for (const row of sessions) {
          assert.match(String(row.mode), /STRICT_ALL_TABLES/);
          assert.doesNotMatch(String(row.mode), /ANSI_QUOTES|NO_BACKSLASH_ESCAPES|PAD_CHAR_TO_FULL_LENGTH/);
          assert.equal(row.zone, '+00:00');
          assert.equal(Number(row.wait), 7);
        }
      } finally {
        await db.close();
      }
    });
  });

  describe('mysql storage: queries, pools and clocks', () => {
    it('each due scan is an ordered range scan of its index, with or without a cursor; listings and batched reads use the primary key', async () => {
      const { name } = await mainDatabase();
      await (await open()).close();
      const connection = await adminConnection(name);
      const app = `explain-${RUN}`;
      try {
        // 3,000 rows of 30 apps; this app has 100 of every kind: online, refused, non-expiring, due.
        const values: unknown[][] = [];
        for (let i = 1; i <= 3000; i++) {
          values.push([
            i % 30 === 0 ? app : `explain-other-${i % 29}`,
            `shop-${i}.myshopify.com`,
            i % 7 === 0 ? 'online' : 'offline',
            i % 7 === 0 ? String(i) : '',
            'a',
            i % 3 !== 0 ? 'r' : null,
            's',
            i,
            i * 10,
            i % 3 === 0 ? i * 100 : null,
            1,
            1,
            i % 11 === 0 ? 'needs_reauth' : 'active',
            0,
            'authorization_code',
          ]);
        }
        await connection.query(
          `INSERT INTO shoptoken_tokens (app, shop, kind, user_id, access_token, refresh_token, scopes, expires_at,
             refresh_token_expires_at, renew_at, created_at, updated_at, status, refresh_failures, token_grant) VALUES ?`,
          [values],
        );
        await connection.query('ANALYZE TABLE shoptoken_tokens');
        for (const index of Object.keys(DUE_INDEXES) as DueIndex[]) {
          for (const after of [undefined, { at: 500, shop: 'shop-500.myshopify.com' }]) {
            const { sql, values: params } = dueStatement(index, { app, before: 1e12, limit: 10, after });
            const [plan] = await connection.execute(`EXPLAIN ${sql}`, params);
            const [step] = plan as { key: string; type: string; Extra: string | null }[];
            const shown = JSON.stringify(plan);
            assert.equal(step?.key, DUE_INDEXES[index].name, `${index}: ${shown}`);
            assert.equal(step?.type, 'range', `${index}: ${shown}`);
            assert.doesNotMatch(String(step?.Extra), /filesort/, `${index}: ${shown}`);
          }
        }
        for (const query of [
          { limit: 10, app },
          { limit: 10, app, after: offlineKey(app, 'shop-30.myshopify.com') },
          { limit: 10, after: offlineKey(app, 'shop-30.myshopify.com') },
        ]) {
          const statement = listStatement(query)!;
          const [plan] = await connection.execute(`EXPLAIN ${statement.sql}`, statement.values);
          const [step] = plan as { key: string; Extra: string | null }[];
          assert.equal(step?.key, 'PRIMARY', JSON.stringify(plan));
          assert.doesNotMatch(String(step?.Extra), /filesort/, JSON.stringify(plan));
        }
        // A batched read: one primary-key range per shop, not a scan of the app.
        const shops = ['shop-20.myshopify.com', 'shop-400.myshopify.com', 'missing.myshopify.com'];
        const batch = getManyStatement({ app, kind: 'offline', userId: '', shops });
        const [batchPlan] = await connection.execute(`EXPLAIN ${batch.sql}`, batch.values);
        const [read] = batchPlan as { key: string; type: string; rows: number | string }[];
        assert.equal(read?.key, 'PRIMARY', JSON.stringify(batchPlan));
        assert.equal(read?.type, 'range', JSON.stringify(batchPlan));
        assert.ok(Number(read?.rows) <= shops.length, JSON.stringify(batchPlan));
      } finally {
        await connection.query("DELETE FROM shoptoken_tokens WHERE app LIKE 'explain-%'");
        await connection.end();
      }
    });

    it('concurrent puts of one new key all succeed (a deadlock victim is run again) and leave one row', async () => {
      const storage = await open();
      const app = `puts-${randomUUID()}`;
      try {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            storage.put(offlineRow(app, SHOP, { updatedAt: i, createdAt: 100 + i })),
          ),
        );
        const rows = await storage.list({ app, limit: 10 });
        assert.equal(rows.length, 1);
        assert.ok(rows[0]!.createdAt >= 100);
      } finally {
        await storage.deleteShop(app, SHOP);
        await storage.close();
      }
    });

    it('works behind a pool of one connection under many concurrent calls', async () => {
      const storage = await open({ pool: '1' });
      await checkOneConnectionPool(storage);
    });

    it('of ten instances asking for one lease at once, exactly one gets it', async () => {
      const stores = await Promise.all(Array.from({ length: 10 }, () => open({ pool: '2' })));
      const key = `instances-${randomUUID()}`;
      try {
        const results = await Promise.all(stores.map((store, i) => store.leases.acquire(key, `owner-${i}`, 10_000)));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await stores[0]!.leases.release(key, `owner-${results.indexOf(true)}`), true);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('leases run on the database server’s clock, whatever this process’s clock says', async () => {
      const storage = await open();
      const key = `clock-${randomUUID()}`;
      const realNow = Date.now;
      try {
        assert.equal(await storage.leases.acquire(key, 'a', 60_000), true);
        const [rows] = await (await admin()).query(
          `SELECT expires_at - ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS remaining
           FROM ${(await mainDatabase()).name}.shoptoken_leases WHERE lease_key = ?`,
          [key],
        );
        const remaining = Number((rows as { remaining: unknown }[])[0]?.remaining);
        assert.ok(remaining > 55_000 && remaining <= 60_000, `${remaining} ms left on the server's clock`);
        Date.now = () => realNow() + 3_600_000; // this instance's clock an hour ahead
        assert.equal(await storage.leases.acquire(key, 'b', 60_000), false, 'still held on the server’s clock');
        assert.equal(await storage.leases.extend(key, 'a', 60_000), true);
      } finally {
        Date.now = realNow;
        await storage.leases.release(key, 'a');
        await storage.close();
      }
    });

    it('expired OAuth states are swept on the caller’s clock by a take; live ones stay', async () => {
      const storage = await open();
      const state = (what: string) => `sweep-${RUN}-${what}`;
      try {
        await storage.states.save(state('old'), 'x', 1000);
        await storage.states.save(state('live'), 'y', 5000);
        assert.equal(await storage.states.take(state('unknown'), 2000), null);
        const [rows] = await (await admin()).query(
          `SELECT state FROM ${(await mainDatabase()).name}.shoptoken_oauth_states WHERE state LIKE ? ORDER BY state`,
          [`sweep-${RUN}-%`],
        );
        assert.deepEqual(
          (rows as { state: Buffer }[]).map((row) => row.state.toString()),
          [state('live')],
        );
        assert.equal(await storage.states.take(state('live'), 2000), 'y');
      } finally {
        await storage.close();
      }
    });

    it('a row locked elsewhere fails the call after lock_timeout, retryably; other calls go on', async () => {
      const storage = await open({ lock_timeout: '1' });
      const key = `hang-${randomUUID()}`;
      const blocker = await adminConnection((await mainDatabase()).name);
      try {
        assert.equal(await storage.leases.acquire(key, 'a', 60_000), true);
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM shoptoken_leases WHERE lease_key = ? FOR UPDATE', [key]);
        const started = performance.now();
        await assert.rejects(storage.leases.extend(key, 'a', 60_000), (error: ShoptokenError) => {
          assert.equal(error.code, 'ERR_STORAGE');
          assert.equal(error.retryable, true);
          assert.equal(error.message, 'mysql storage could not extend a lease (ER_LOCK_WAIT_TIMEOUT)');
          return true;
        });
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 900 && elapsed < 4000, `${elapsed} ms`);
        assert.equal(await storage.states.take(`hang-${RUN}`, 0), null, 'other calls still work');
      } finally {
        await blocker.query('ROLLBACK');
        await blocker.end();
        await storage.leases.release(key, 'a').catch(() => undefined);
        await storage.close();
      }
    });

    it('connections the server kills are replaced: calls fail retryably at worst, then work', async () => {
      const storage = await open({ pool: '3' });
      const app = `killed-${randomUUID()}`;
      try {
        await Promise.all([1, 2, 3].map(() => storage.get(offlineKey(app, SHOP))));
        const connection = await admin();
        const [rows] = await connection.query(
          'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
          [(await mainDatabase()).name],
        );
        const ids = (rows as { id: number }[]).map((row) => row.id);
        assert.ok(ids.length >= 1);
        for (const id of ids) await connection.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
        await sleep(100);
        let worked = false;
        for (let attempt = 0; attempt < 5 && !worked; attempt++) {
          try {
            await storage.put(offlineRow(app, SHOP));
            worked = true;
          } catch (error) {
            assert.equal((error as ShoptokenError).code, 'ERR_STORAGE');
            assert.equal((error as ShoptokenError).retryable, true, String(error));
          }
        }
        assert.ok(worked);
        assert.ok(await storage.get(offlineKey(app, SHOP)));
      } finally {
        await storage.deleteShop(app, SHOP).catch(() => undefined);
        await storage.close();
      }
    });

    it('close is idempotent; a call in flight when it closes fails with ERR_STORAGE', async () => {
      const storage = await open();
      const pending = storage.get(offlineKey(`closing-${RUN}`, SHOP)).then(
        () => 'done',
        (error: ShoptokenError) => error.code,
      );
      await Promise.all([storage.close(), storage.close()]);
      assert.ok(['done', 'ERR_STORAGE'].includes(await pending));
      await assert.rejects(storage.put(offlineRow(`closing-${RUN}`, SHOP)), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.leases.release('x', 'a'), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.states.save('x', 'v', 1), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.list({ app: 'b', limit: 1, after: offlineKey('c', SHOP) }), { code: 'ERR_STORAGE' });
    });
  });

  describe('mysql storage: several processes', () => {
    it('4 processes × 25 callers over 100 shops: each shop’s token is rotated exactly once', async () => {
      const storage = await open();
      try {
        const url = (await mainDatabase()).url;
        await assertRotatedOnceAcrossProcesses(storage, url, { shops: 100, processes: 4, callers: 25 });
      } finally {
        await storage.close();
      }
    });
  });
}
