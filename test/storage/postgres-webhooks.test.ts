/**
 * The PostgreSQL webhook inbox against a real server (SHOPTOKEN_TEST_POSTGRES_URL, default the
 * local one), beyond the storage battery: the migrated table against the record codec, an upgrade
 * of a version-1 schema that keeps its token rows, the claim's plan (the due index read in order),
 * claims racing over several pools, and epoch-millisecond times past 32 bits. Each run works in
 * schemas of its own (random names), dropped at the end. Without a server the suite is skipped
 * with a printed reason, unless SHOPTOKEN_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { runMigrations } from '../../src/storage/migrations.ts';
import { connect } from '../../src/storage/postgres/connection.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { migrationTarget, postgresMigrations } from '../../src/storage/postgres/migrations.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/url.ts';
import { WEBHOOK_COLUMNS } from '../../src/storage/webhook-codec.ts';
import { webhookRecord } from '../../src/testing/conformance-webhooks.ts';
import { offlineKey, offlineRow } from '../../src/testing/fixtures.ts';

const BASE = process.env.SHOPTOKEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = randomBytes(4).toString('hex');

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
  declareSuite();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('PostgreSQL is reachable (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the postgres webhook inbox tests: ${reason}`);
  it('postgres webhook inbox', { skip: reason }, () => undefined);
}

function declareSuite(): void {
  const admin = new pg.Pool({ connectionString: BASE, max: 2 });
  admin.on('error', () => undefined);
  const schemas: string[] = [];
  const urlOf = (what: string): { schema: string; url: string } => {
    const schema = `shoptoken_test_${RUN}_${what}`;
    schemas.push(schema);
    const url = new URL(BASE);
    url.searchParams.set('schema', schema);
    return { schema, url: url.toString() };
  };
  const main = urlOf('inbox');

  after(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  describe('postgres storage: the webhook inbox', () => {
    it('the migrated webhook table has the record codec’s columns, nullability and types, text bytewise', async () => {
      await (await openPostgresStorage(main.url)).close();
      const { rows } = await admin.query(
        `SELECT column_name, is_nullable, data_type, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'shoptoken_webhooks' ORDER BY ordinal_position`,
        [main.schema],
      );
      assert.deepEqual(
        rows.map((row) => row.column_name),
        WEBHOOK_COLUMNS.map(({ column }) => column),
      );
      for (const [index, { column, type }] of WEBHOOK_COLUMNS.entries()) {
        const row = rows[index];
        assert.equal(row.is_nullable === 'YES', type.endsWith('?'), `${column} nullability`);
        assert.ok(
          type.startsWith('text') ? row.data_type === 'text' : ['bigint', 'integer'].includes(row.data_type),
          `${column} type`,
        );
        if (['app', 'webhook_id', 'shop', 'state', 'owner'].includes(column)) {
          assert.equal(row.collation_name, 'C', `${column} collation`);
        }
      }
    });

    it('a version-1 schema is upgraded in place: token rows are kept, with no authorization time', async () => {
      const old = urlOf('upgrade');
      const db = await connect(parsePostgresUrl(old.url));
      try {
        await runMigrations(migrationTarget(db), postgresMigrations(db.table).slice(0, 1));
      } finally {
        await db.close();
      }
      const app = `upgrade-${randomUUID()}`;
      await admin.query(
        `INSERT INTO "${old.schema}".shoptoken_tokens (app, shop, kind, user_id, access_token, scopes, created_at,
           updated_at, status, refresh_failures, token_grant)
         VALUES ($1, 'cool-shop.myshopify.com', 'offline', '', 'a', 's', 1, 1, 'active', 0, 'authorization_code')`,
        [app],
      );
      const applied: number[] = [];
      const storage = await openPostgresStorage(old.url, {
        onMigrated: (report) => applied.push(...report.applied.map(({ version }) => version)),
      });
      try {
        assert.deepEqual(applied, [2, 3], 'the versions after 1');
        const row = await storage.get(offlineKey(app, 'cool-shop.myshopify.com'));
        assert.equal(row?.accessToken, 'a');
        assert.equal(row?.authorizedAt, null);
        await storage.put(offlineRow(app, 'cool-shop.myshopify.com', { authorizedAt: 1_700_000_000_123 }));
        const again = await storage.get(offlineKey(app, 'cool-shop.myshopify.com'));
        assert.equal(again?.authorizedAt, 1_700_000_000_123);
        assert.equal(await storage.webhooks?.add(webhookRecord(app)), true, 'the inbox is there');
      } finally {
        await storage.close();
      }
    });

    it('a claim reads the partial due index in (run_at, webhook_id) order: no sort, no sequential scan', async () => {
      const storage = await openPostgresStorage(main.url);
      await storage.close();
      const app = `explain-${RUN}`;
      // 20,000 records of 40 apps, half of them settled: this app's pending ones are a few hundred.
      await admin.query(
        `INSERT INTO "${main.schema}".shoptoken_webhooks (app, webhook_id, shop, topic, delivery, state, attempts,
           run_at, received_at, updated_at, keep_until)
         SELECT CASE WHEN i % 40 = 0 THEN $1 ELSE 'explain-other-' || (i % 39) END, 'id-' || i, 's', 't', 'd',
           CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'done' END, 0, i, i, i, i
         FROM generate_series(1, 20000) AS i`,
        [app],
      );
      try {
        await admin.query(`ANALYZE "${main.schema}".shoptoken_webhooks`);
        const { rows } = await admin.query(
          `EXPLAIN (FORMAT JSON) SELECT app, webhook_id FROM "${main.schema}".shoptoken_webhooks
           WHERE app = $1 AND state = 'pending' AND run_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
           ORDER BY run_at, webhook_id LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [app, 1e12, 10],
        );
        const nodes = planNodes(rows[0]['QUERY PLAN'][0].Plan);
        const plan = nodes.map((node) => `${node['Node Type']} ${node['Index Name'] ?? ''}`).join(' > ');
        assert.ok(
          nodes.some((node) => node['Index Name'] === 'shoptoken_webhooks_due'),
          `the due index is read: ${plan}`,
        );
        assert.ok(!nodes.some((node) => ['Sort', 'Seq Scan'].includes(String(node['Node Type']))), plan);
      } finally {
        await admin.query(`DELETE FROM "${main.schema}".shoptoken_webhooks WHERE app LIKE 'explain-%'`);
      }
    });

    it('4 pools × 5 claimants drain 300 records: each is claimed exactly once', async () => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStorage(main.url)));
      const app = `race-${randomUUID()}`;
      try {
        const records = Array.from({ length: 300 }, () => webhookRecord(app, { runAt: 0, receivedAt: 0 }));
        await Promise.all(records.map((record) => stores[0]?.webhooks?.add(record)));
        const claimed: string[] = [];
        await Promise.all(
          stores.flatMap((store, s) =>
            Array.from({ length: 5 }, async (_, c) => {
              for (;;) {
                const page = await store.webhooks!.claim({
                  app,
                  owner: `w${s}-${c}`,
                  now: 1,
                  leaseMs: 60_000,
                  limit: 7,
                });
                if (page.length === 0) return;
                claimed.push(...page.map((record) => record.webhookId));
              }
            }),
          ),
        );
        assert.equal(claimed.length, 300);
        assert.equal(new Set(claimed).size, 300);
        const listed = await stores[0]!.webhooks!.list({ app, limit: 1000 });
        assert.ok(listed.every((record) => record.attempts === 1 && record.leaseUntil === 60_001));
      } finally {
        await stores[0]?.webhooks?.deleteShop(app, 'cool-shop.myshopify.com');
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('epoch-millisecond times past 32 bits round-trip as numbers', async () => {
      const storage = await openPostgresStorage(main.url);
      const app = `times-${randomUUID()}`;
      try {
        const now = 1_760_000_000_123;
        const record = webhookRecord(app, { receivedAt: now, runAt: now, updatedAt: now, keepUntil: 2 ** 53 - 1 });
        assert.equal(await storage.webhooks?.add(record), true);
        assert.deepEqual(await storage.webhooks?.get(record), record);
        const [claimed] = (await storage.webhooks?.claim({ app, owner: 'w', now, leaseMs: 30_000, limit: 1 })) ?? [];
        assert.equal(claimed?.leaseUntil, now + 30_000);
      } finally {
        await storage.webhooks?.deleteShop(app, 'cool-shop.myshopify.com');
        await storage.close();
      }
    });
  });
}

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function planNodes(plan: Record<string, unknown>): Record<string, unknown>[] {
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [plan, ...children.flatMap(planNodes)];
}
