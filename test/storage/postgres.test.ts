/**
 * The PostgreSQL storage against a real server (SHOPTOKEN_TEST_POSTGRES_URL, default the local
 * one): the storage battery, then what only PostgreSQL has — migrations under concurrent opens,
 * the driver and URL errors, connections lost or never made, the plans of the due queries and of
 * the batched reads, a pool of one, server-clock leases. Each run works in schemas of its own
 * (random names), dropped at the end. Without a server the suites are skipped with a printed
 * reason, unless SHOPTOKEN_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import pg from 'pg';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import type { MigrationReport } from '../../src/storage/migrations.ts';
import { MISSING_DRIVER } from '../../src/storage/postgres/connection.ts';
import { DUE_INDEXES, dueStatement } from '../../src/storage/postgres/due.ts';
import { isRetryable } from '../../src/storage/postgres/errors.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { postgresMigrations } from '../../src/storage/postgres/migrations.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/url.ts';
import { TOKEN_COLUMNS } from '../../src/storage/row-codec.ts';
import type { DueIndex, TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, sealed } from '../../src/testing/fixtures.ts';
import { runStorageConformance } from '../../src/testing/index.ts';
import { assertRotatedOnceAcrossProcesses } from '../helpers/rotation-processes.ts';
import { checkOneConnectionPool } from '../helpers/small-pool.ts';

const BASE = process.env.SHOPTOKEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = randomBytes(4).toString('hex');
const LATEST = postgresMigrations((name) => name).length;

/** Why the server cannot be used, or null when it can. */
async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: BASE, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return `PostgreSQL at SHOPTOKEN_TEST_POSTGRES_URL is not reachable (${code ?? message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reason = await unreachable();
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('PostgreSQL is reachable (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the postgres storage tests: ${reason}`);
  it('postgres storage', { skip: reason }, () => undefined);
}

function declareSuites(): void {
  const admin = new pg.Pool({ connectionString: BASE, max: 2 });
  admin.on('error', () => undefined);
  const schemas: string[] = [];
  const roles: string[] = [];

  /** A schema name of this run (dropped at the end). */
  const freshSchema = (what: string): string => {
    const name = `shoptoken_test_${RUN}_${what}`;
    schemas.push(name);
    return name;
  };
  /** BASE with `params` set (the schema among them). */
  const urlWith = (params: Record<string, string>): string => {
    const url = new URL(BASE);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const main = freshSchema('main');
  const mainUrl = urlWith({ schema: main });
  const open = (params: Record<string, string> = {}) => openPostgresStorage(urlWith({ schema: main, ...params }));

  after(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
  });

  runStorageConformance('postgres', () => openPostgresStorage(mainUrl), { shared: true });
  const preparedUrl = urlWith({ schema: freshSchema('conformance_prepared'), prepare: 'true' });
  runStorageConformance('postgres (prepare=true)', () => openPostgresStorage(preparedUrl), { shared: true });

  describe('postgres storage: migrations', () => {
    it('8 instances opening a fresh schema at once apply each version exactly once', async () => {
      const schema = freshSchema('fresh');
      const reports: MigrationReport[] = [];
      const stores = await Promise.all(
        Array.from({ length: 8 }, () =>
          openPostgresStorage(urlWith({ schema }), { onMigrated: (report) => reports.push(report) }),
        ),
      );
      await Promise.all(stores.map((store) => store.close()));
      const { rows } = await admin.query(
        `SELECT version, count(*)::int AS n FROM "${schema}".shoptoken_schema GROUP BY version ORDER BY version`,
      );
      assert.deepEqual(
        rows,
        Array.from({ length: LATEST }, (_, i) => ({ version: i + 1, n: 1 })),
      );
      assert.equal(reports.length, 8, 'onMigrated is called by every open');
      assert.equal(reports.filter((report) => report.applied.length > 0).length, 1, 'one instance applied them');
      assert.ok(reports.every((report) => report.to === LATEST));
      const again: MigrationReport[] = [];
      const reopened = await openPostgresStorage(urlWith({ schema }), { onMigrated: (report) => again.push(report) });
      await reopened.close();
      assert.deepEqual(again, [{ from: LATEST, to: LATEST, applied: [] }]);
    });

    it('refuses a schema newer than this code, and lets go of its connections', async () => {
      const schema = freshSchema('newer');
      await (await openPostgresStorage(urlWith({ schema }))).close();
      await admin.query(`INSERT INTO "${schema}".shoptoken_schema VALUES ($1, 'from the future', 0)`, [LATEST + 1]);
      await assert.rejects(openPostgresStorage(urlWith({ schema })), (error: ShoptokenError) => {
        assert.equal(error.code, 'ERR_STORAGE');
        assert.match(error.message, /newer than this shoptoken knows/);
        return true;
      });
    });

    it('the migrated token table has the row codec’s columns, nullability and types, keys bytewise', async () => {
      const { rows } = await admin.query(
        `SELECT column_name, is_nullable, data_type, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'shoptoken_tokens' ORDER BY ordinal_position`,
        [main],
      );
      assert.deepEqual(
        rows.map((row) => row.column_name),
        TOKEN_COLUMNS.map(({ column }) => column),
      );
      for (const [index, { column, type }] of TOKEN_COLUMNS.entries()) {
        const row = rows[index];
        assert.equal(row.is_nullable === 'YES', type.endsWith('?'), `${column} nullability`);
        assert.ok(
          type.startsWith('text') ? row.data_type === 'text' : ['bigint', 'integer'].includes(row.data_type),
          `${column} type`,
        );
        if (index < 4) assert.equal(row.collation_name, 'C', `${column} collation`);
      }
      const keys = await admin.query(
        `SELECT table_name, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND (table_name, column_name) IN (('shoptoken_leases', 'key'), ('shoptoken_oauth_states', 'state'))`,
        [main],
      );
      assert.deepEqual(
        keys.rows.map((row) => row.collation_name),
        ['C', 'C'],
      );
    });

    it('a user without CREATE privileges opens and uses a schema migrated by its owner', async () => {
      const schema = freshSchema('grants');
      await (await openPostgresStorage(urlWith({ schema }))).close();
      const role = `shoptoken_test_${RUN}_app`;
      roles.push(role);
      await admin.query(`CREATE ROLE "${role}" LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
      try {
        const url = new URL(urlWith({ schema }));
        url.username = role;
        const storage = await openPostgresStorage(url.toString());
        const app = `grants-${randomUUID()}`;
        await storage.put(offlineRow(app, 'cool-shop.myshopify.com'));
        assert.equal((await storage.get(offlineKey(app, 'cool-shop.myshopify.com')))?.shop, 'cool-shop.myshopify.com');
        const many = await storage.getMany!([offlineKey(app, 'cool-shop.myshopify.com'), offlineKey(app, 'x')]);
        assert.deepEqual(
          many.map((row) => row.shop),
          ['cool-shop.myshopify.com'],
          'the read function runs with the app user’s rights (EXECUTE is granted to PUBLIC)',
        );
        assert.equal(await storage.leases.acquire(`k-${app}`, 'a', 1000), true);
        await storage.close();
      } finally {
        await admin.query(`REVOKE ALL ON ALL TABLES IN SCHEMA "${schema}" FROM "${role}"`);
        await admin.query(`REVOKE ALL ON SCHEMA "${schema}" FROM "${role}"`);
      }
    });

    it('schemas of one database are separate stores', async () => {
      const other = await openPostgresStorage(urlWith({ schema: freshSchema('other') }));
      const storage = await open();
      const app = `separate-${randomUUID()}`;
      try {
        await storage.put(offlineRow(app, 'cool-shop.myshopify.com'));
        assert.equal(await other.get(offlineKey(app, 'cool-shop.myshopify.com')), null);
      } finally {
        await storage.deleteShop(app, 'cool-shop.myshopify.com');
        await Promise.all([storage.close(), other.close()]);
      }
    });
  });

  describe('postgres storage: driver, URL and connection errors', () => {
    it('a missing pg package is a ConfigError saying what to install', async () => {
      const absent = `pg-absent-${RUN}`;
      await assert.rejects(
        openPostgresStorage(mainUrl, { importDriver: () => import(absent) }),
        (error: ConfigError) => {
          assert.ok(error instanceof ConfigError);
          assert.deepEqual(error.problems, [
            'SHOPTOKEN_DATABASE_URL is a postgres:// URL: install the pg package (npm install pg)',
          ]);
          assert.equal(error.problems[0], MISSING_DRIVER);
          return true;
        },
      );
    });

    it('a malformed URL or bad parameters: one ConfigError naming each, never quoting the URL', async () => {
      const password = `pw-${RUN}`;
      const bad = `postgres://u:${password}@127.0.0.1/test?schema=no%22pe&pool=0&connect_timeout=soon`;
      await assert.rejects(openPostgresStorage(bad), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 3);
        assert.match(error.problems.join('\n'), /schema must be/);
        assert.match(error.problems.join('\n'), /pool must be/);
        assert.match(error.problems.join('\n'), /connect_timeout must be/);
        assert.ok(!inspect(error, { depth: 5 }).includes(password));
        return true;
      });
      for (const url of [`postgres://u:${password}@[nope/test`, `mysql://u:${password}@127.0.0.1/test`]) {
        await assert.rejects(openPostgresStorage(url), (error: ConfigError) => {
          assert.ok(error instanceof ConfigError);
          assert.ok(!inspect(error, { depth: 5 }).includes(password));
          return true;
        });
      }
    });

    it('reads schema, pool and connect_timeout out of the URL and passes the rest (libpq’s) to pg', () => {
      const settings = parsePostgresUrl(
        'postgresql://u:p%40ss@db.internal:6432/shop?sslmode=verify-full&schema=Apps_1&pool=3&connect_timeout=2&application_name=x&query_timeout=0&prepare=true',
      );
      assert.deepEqual(settings, {
        connectionString: 'postgresql://u:p%40ss@db.internal:6432/shop?sslmode=verify-full&application_name=x',
        schema: 'Apps_1',
        pool: 3,
        connectTimeoutMs: 2000,
        queryTimeoutMs: 0,
        prepare: true,
      });
      assert.deepEqual(parsePostgresUrl('postgres://localhost/shop'), {
        connectionString: 'postgres://localhost/shop',
        schema: 'public',
        pool: 10,
        connectTimeoutMs: 5000,
        queryTimeoutMs: 30_000,
        prepare: false,
      });
      assert.equal(parsePostgresUrl('postgres://localhost/shop?prepare=false').prepare, false);
      for (const value of ['yes', '1', 'TRUE', '']) {
        assert.throws(
          () => parsePostgresUrl(`postgres://localhost/shop?prepare=${value}`),
          (error: ConfigError) =>
            error instanceof ConfigError && /prepare must be true or false/.test(error.problems[0]!),
        );
      }
    });

    it('prepare=true names every statement a call runs, and the server keeps them; by default none is named', async () => {
      // The real driver, its Pool recording the statements it is given.
      const named: (string | undefined)[] = [];
      const pools: pg.Pool[] = [];
      class RecordingPool extends pg.Pool {
        constructor(config?: pg.PoolConfig) {
          super(config);
          pools.push(this);
        }
        override query(...args: unknown[]): never {
          const config = args[0] as { name?: string } | string;
          if (typeof config === 'object') named.push(config.name);
          return (super.query as (...a: unknown[]) => never)(...args);
        }
      }
      const importDriver = async () => ({ Pool: RecordingPool });
      const shop = 'cool-shop.myshopify.com';
      const app = `prepared-${randomUUID()}`;
      /**
       * Runs a few calls of each kind twice on a pool of one connection with `params`; returns the
       * names the statements were sent under and the statements the server holds afterwards.
       */
      const exercise = async (params: Record<string, string>) => {
        const storage = await openPostgresStorage(urlWith({ schema: freshSchema('prepared'), pool: '1', ...params }), {
          importDriver,
        });
        try {
          named.length = 0;
          for (let round = 0; round < 2; round++) {
            await storage.put(offlineRow(app, shop, { updatedAt: 1000 + round }));
            assert.equal((await storage.get(offlineKey(app, shop)))?.updatedAt, 1000 + round);
            const many = await storage.getMany!([offlineKey(app, shop), offlineKey(app, 'b.myshopify.com')]);
            assert.equal(many.length, 1);
            assert.equal((await storage.list({ app, limit: 10 })).length, 1);
            assert.equal(await storage.leases.acquire(`prepared-${app}`, 'me', 10_000), true);
            assert.equal(await storage.leases.release(`prepared-${app}`, 'me'), true);
          }
          const names = [...named];
          assert.ok(names.length >= 12);
          const rows = (await pools.at(-1)!.query('SELECT name FROM pg_prepared_statements')).rows;
          return { names, held: rows.map((row) => String(row.name)).sort() };
        } finally {
          await storage.close();
        }
      };

      const prepared = await exercise({ prepare: 'true' });
      assert.ok(
        prepared.names.every((name) => name?.startsWith('shoptoken_')),
        String(prepared.names),
      );
      // One connection: it holds each statement once, however often it ran.
      assert.deepEqual(prepared.held, [...new Set(prepared.names as string[])].sort());

      const plain = await exercise({});
      assert.deepEqual(
        plain.names.filter((name) => name !== undefined),
        [],
      );
      assert.deepEqual(plain.held, []);
    });

    it('an unreachable server (a closed port) is a quick, retryable ERR_STORAGE without the password', async () => {
      const port = await closedPort();
      const password = `pw-${RUN}`;
      const started = performance.now();
      await assert.rejects(
        openPostgresStorage(`postgres://postgres:${password}@127.0.0.1:${port}/test?schema=${main}`),
        (error: ShoptokenError) => {
          assert.ok(error instanceof ShoptokenError);
          assert.equal(error.code, 'ERR_STORAGE');
          assert.equal(error.retryable, true);
          assert.match(error.message, /^postgres storage could not /);
          assert.ok(!inspect(error, { depth: 10 }).includes(password), 'no password anywhere in the error');
          return true;
        },
      );
      assert.ok(performance.now() - started < 5000);
    });

    it('a server that accepts and never answers times out after connect_timeout', async () => {
      const sockets: Socket[] = [];
      const server = createServer((socket) => sockets.push(socket));
      const port = await listen(server);
      try {
        const started = performance.now();
        await assert.rejects(
          openPostgresStorage(`postgres://postgres@127.0.0.1:${port}/test?connect_timeout=1`),
          (error: ShoptokenError) => error.code === 'ERR_STORAGE' && error.retryable,
        );
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 900 && elapsed < 4000, `${elapsed} ms`);
      } finally {
        for (const socket of sockets) socket.destroy();
        server.close();
      }
    });

    it('a statement that hangs (a row locked elsewhere) fails after query_timeout, retryably; the pool goes on', async () => {
      const storage = await open({ query_timeout: '300' });
      const key = `hang-${randomUUID()}`;
      const blocker = await admin.connect();
      try {
        await storage.leases.acquire(key, 'a', 60_000);
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM "${main}".shoptoken_leases WHERE key = $1 FOR UPDATE`, [key]);
        const started = performance.now();
        await assert.rejects(
          storage.leases.extend(key, 'a', 60_000),
          (error: ShoptokenError) => error.code === 'ERR_STORAGE' && error.retryable,
        );
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
        assert.equal(await storage.states.take(`hang-${RUN}`, 0), null, 'other calls still work');
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
        await storage.leases.release(key, 'a').catch(() => undefined);
        await storage.close();
      }
    });

    it('a database that does not exist is ERR_STORAGE, not retryable', async () => {
      const url = new URL(urlWith({ schema: main }));
      url.pathname = `/shoptoken_missing_${RUN}`;
      await assert.rejects(
        openPostgresStorage(url.toString()),
        (error: ShoptokenError) => error.code === 'ERR_STORAGE' && !error.retryable,
      );
    });

    it('a constraint violation is not retryable, and the error quotes no stored value', async () => {
      const storage = await open();
      const app = `constraint-${randomUUID()}`;
      const secret = sealed(`access-${randomUUID()}`);
      try {
        // An offline row must have userId '': the table's CHECK refuses this one, naming the failing row in `detail`.
        await assert.rejects(
          storage.put(offlineRow(app, 'cool-shop.myshopify.com', { userId: '7', accessToken: secret })),
          (error: ShoptokenError) => {
            assert.equal(error.code, 'ERR_STORAGE');
            assert.equal(error.retryable, false);
            assert.equal(error.message, 'postgres storage could not write a token row');
            assert.ok(!inspect(error, { depth: 10 }).includes(secret));
            return true;
          },
        );
      } finally {
        await storage.close();
      }
    });

    it('classifies driver errors: lost connections, deadlocks and serialization failures are retryable', () => {
      const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
      for (const code of [
        '40001',
        '40P01',
        '08006',
        '08001',
        '57P01',
        '57014',
        '53300',
        'ECONNRESET',
        'ECONNREFUSED',
        'EPIPE',
      ]) {
        assert.equal(isRetryable(coded(code)), true, code);
      }
      for (const code of ['23505', '23514', '42601', '42P01', '28P01', '3D000', '22P02']) {
        assert.equal(isRetryable(coded(code)), false, code);
      }
      assert.equal(isRetryable(new Error('Connection terminated unexpectedly')), true);
      assert.equal(isRetryable(new Error('timeout exceeded when trying to connect')), true);
      assert.equal(isRetryable(new Error('something else')), false);
    });

    it('connections the server drops are replaced: calls fail retryably at worst, then work', async () => {
      const name = `shoptoken-test-${RUN}`;
      const storage = await open({ application_name: name, pool: '3' });
      const app = `dropped-${randomUUID()}`;
      try {
        await Promise.all([1, 2, 3].map(() => storage.get(offlineKey(app, 'cool-shop.myshopify.com'))));
        const killed = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [name],
        );
        assert.ok(killed.rowCount! >= 1);
        await sleep(100);
        let worked = false;
        for (let attempt = 0; attempt < 5 && !worked; attempt++) {
          try {
            await storage.put(offlineRow(app, 'cool-shop.myshopify.com'));
            worked = true;
          } catch (error) {
            assert.equal((error as ShoptokenError).code, 'ERR_STORAGE');
            assert.equal((error as ShoptokenError).retryable, true);
          }
        }
        assert.ok(worked);
        assert.ok(await storage.get(offlineKey(app, 'cool-shop.myshopify.com')));
      } finally {
        await storage.deleteShop(app, 'cool-shop.myshopify.com').catch(() => undefined);
        await storage.close();
      }
    });
  });

  describe('postgres storage: several processes', () => {
    it('4 processes × 10 callers over 50 shops: each shop’s token is rotated exactly once', async () => {
      const storage = await open();
      try {
        await assertRotatedOnceAcrossProcesses(storage, mainUrl, { shops: 50, processes: 4, callers: 10 });
      } finally {
        await storage.close();
      }
    });
  });

  describe('postgres storage: queries, pools and clocks', () => {
    it('each due scan is an ordered range scan of its partial index: no sort, no filter, with or without a cursor', async () => {
      const storage = await open();
      await storage.close();
      const app = `explain-${RUN}`;
      // 20,000 rows of 98 apps; this app has 1,000, a few hundred in each index: a page of 10 of them
      // must be read in index order. (With a page near the size of a small due set, the planner may
      // rightly read the whole set through the same index and sort it.)
      await admin.query(
        `INSERT INTO "${main}".shoptoken_tokens (app, shop, kind, user_id, access_token, refresh_token, scopes,
           expires_at, refresh_token_expires_at, renew_at, created_at, updated_at, status, refresh_failures, token_grant)
         SELECT CASE WHEN i % 20 = 0 THEN $1 ELSE 'explain-other-' || (i % 97) END, 'shop-' || i || '.myshopify.com',
           'offline', '', 'a', CASE WHEN i % 3 <> 0 THEN 'r' END, 's', i, i * 10, CASE WHEN i % 3 = 0 THEN i * 100 END,
           1, 1, CASE WHEN i % 11 = 0 THEN 'needs_reauth' ELSE 'active' END, 0, 'authorization_code'
         FROM generate_series(1, 20000) AS i`,
        [app],
      );
      try {
        await admin.query(`ANALYZE "${main}".shoptoken_tokens`);
        const tokens = `"${main}"."shoptoken_tokens"`;
        for (const index of Object.keys(DUE_INDEXES) as DueIndex[]) {
          for (const after of [undefined, { at: 500, shop: 'shop-500.myshopify.com' }]) {
            const { text, values } = dueStatement(tokens, index, { app, before: 1e12, limit: 10, after });
            const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
            const nodes = planNodes(rows[0]['QUERY PLAN'][0].Plan);
            const plan = nodes.map((node) => `${node['Node Type']} ${node['Index Name'] ?? ''}`).join(' > ');
            const scan = nodes.find((node) => node['Index Name'] === DUE_INDEXES[index].name);
            assert.equal(scan?.['Node Type'], 'Index Scan', `${index}: ${plan}`);
            assert.equal(scan?.Filter, undefined, `${index}: every condition is in the index`);
            if (after) assert.match(String(scan?.['Index Cond']), /ROW\(/, `${index}: the cursor bounds the scan`);
            assert.ok(!nodes.some((node) => node['Node Type'] === 'Sort'), `${index}: ${plan}`);
          }
        }
      } finally {
        await admin.query(`DELETE FROM "${main}".shoptoken_tokens WHERE app LIKE 'explain-%'`);
      }
    });

    it('batched reads look each key up on the primary key, even on a table without statistics', async () => {
      // A plain `shop = ANY($keys)` is planned here as a scan of the app's whole key range (every
      // row read, all but two filtered out); the read function must not be.
      const schema = freshSchema('nostats');
      await (await openPostgresStorage(urlWith({ schema }))).close();
      const tokens = `"${schema}".shoptoken_tokens`;
      await admin.query(`ALTER TABLE ${tokens} SET (autovacuum_enabled = false)`);
      await admin.query(
        `INSERT INTO ${tokens} (app, shop, kind, user_id, access_token, scopes, created_at, updated_at, status,
           refresh_failures, token_grant)
         SELECT '', 'shop-' || i || '.myshopify.com', 'offline', '', 'a', 's', 1, 1, 'active', 0, 'authorization_code'
         FROM generate_series(1, 3000) AS i`,
      );
      const client = new pg.Client({ connectionString: BASE });
      await client.connect();
      const plans: Record<string, unknown>[] = [];
      client.on('notice', (notice) => {
        const text = String(notice.message ?? '');
        const json = text.slice(text.indexOf('{'));
        if (text.includes('"Plan"')) plans.push(JSON.parse(json).Plan);
      });
      try {
        for (const setting of [
          "LOAD 'auto_explain'",
          'SET auto_explain.log_min_duration = 0',
          'SET auto_explain.log_nested_statements = on',
          'SET auto_explain.log_analyze = on',
          "SET auto_explain.log_format = 'json'",
          "SET client_min_messages = 'log'",
        ])
          await client.query(setting);
        const shops = ['shop-7.myshopify.com', 'shop-2999.myshopify.com', 'missing.myshopify.com'];
        for (let run = 0; run < 2; run++) {
          const { rows } = await client.query(`SELECT shop FROM "${schema}".shoptoken_read_tokens($1, $2, $3, $4)`, [
            shops.map(() => ''),
            shops,
            shops.map(() => 'offline'),
            shops.map(() => ''),
          ]);
          assert.deepEqual(rows.map((row) => row.shop).sort(), shops.slice(0, 2).sort());
        }
        const scans = plans.flatMap(planNodes).filter((node) => node['Relation Name'] === 'shoptoken_tokens');
        assert.ok(scans.length >= 2, `the function's inner statement was explained (${scans.length} scans)`);
        for (const scan of scans) {
          assert.equal(scan['Node Type'], 'Index Scan');
          assert.equal(scan['Index Name'], 'shoptoken_tokens_pkey');
          assert.match(String(scan['Index Cond']), /shop = /, 'the shop is in the index condition');
          assert.equal(scan.Filter, undefined);
          assert.ok(Number(scan['Actual Rows']) <= 1, `at most one row a lookup, read ${scan['Actual Rows']}`);
        }
      } finally {
        await client.end();
      }
    });

    it('works behind a pool of one connection under many concurrent calls', async () => {
      const storage = await openPostgresStorage(
        urlWith({ schema: main, pool: '1' }).replace(/^postgres:/, 'postgresql:'),
      );
      await checkOneConnectionPool(storage);
    });

    it('leases run on the database server’s clock, whatever this process’s clock says', async () => {
      const storage = await open();
      const key = `clock-${randomUUID()}`;
      const realNow = Date.now;
      try {
        assert.equal(await storage.leases.acquire(key, 'a', 60_000), true);
        const { rows } = await admin.query(
          `SELECT expires_at - (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS left
           FROM "${main}".shoptoken_leases WHERE key = $1`,
          [key],
        );
        const left = Number(rows[0].left);
        assert.ok(left > 55_000 && left <= 60_000, `${left} ms left on the server's clock`);
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
        const { rows } = await admin.query(
          `SELECT state FROM "${main}".shoptoken_oauth_states WHERE state LIKE $1 ORDER BY state`,
          [`sweep-${RUN}-%`],
        );
        assert.deepEqual(
          rows.map((row) => row.state),
          [state('live')],
        );
        assert.equal(await storage.states.take(state('live'), 2000), 'y');
      } finally {
        await storage.close();
      }
    });

    it('close is idempotent, and a closed storage refuses calls without touching the server', async () => {
      const storage: TokenStorage = await open();
      await Promise.all([storage.close(), storage.close()]);
      await storage.close();
      await assert.rejects(storage.states.save('x', 'y', 1), { code: 'ERR_STORAGE', message: /closed/ });
      await assert.rejects(storage.leases.release('x', 'y'), { code: 'ERR_STORAGE' });
    });
  });
}

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function planNodes(plan: Record<string, unknown>): Record<string, unknown>[] {
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [plan, ...children.flatMap(planNodes)];
}

/** Listens on a free loopback port and returns it. */
function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A loopback port nothing listens on (one just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
