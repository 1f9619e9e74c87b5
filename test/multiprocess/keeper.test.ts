/**
 * The keeper on several instances (issue 7 §3, §5): 3 worker processes each run `vault.keeper()`
 * over one store holding 10,000 shops of which 300 are due (their access tokens expire within the
 * keeper's `aheadMs`). Each due shop must be refreshed exactly once (the emulator counts the grants)
 * and the instances together must read O(due × instances) rows, never the table. The due shops are
 * real installs on the emulator (their refresh tokens work); the others are rows written straight
 * through the storage, due in a day, which the keeper must never read.
 *
 * PostgreSQL carries the 10,000-shop case (its idle rows written with multi-row INSERTs of the row
 * codec's columns: 10,000 single upserts take longer than the whole test); the other stores run a
 * smaller table (600 shops, 30 due, idle rows through `storage.put`) to keep this file in time.
 */

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openConfiguredStorage } from '../../src/config/database.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { rowValues, TOKEN_COLUMNS } from '../../src/storage/row-codec.ts';
import type { TokenRow, TokenStorage } from '../../src/storage/types.ts';
import { offlineRow, sealed } from '../../src/testing/fixtures.ts';
import { ADMIN_QUERY_OK, adminStatus } from '../helpers/emulator-install.ts';
import {
  freshKeys,
  installShops,
  listeningEmulator,
  refreshGrants,
  shopNames,
  startWorkers,
  stopWorkers,
  testVault,
  type Worker,
  workerConfig,
} from '../helpers/multiprocess-harness.ts';
import { BACKENDS, type Backend, Stores, storeTest, unavailable } from '../helpers/multiprocess-stores.ts';
import type { KeeperResult } from '../helpers/multiprocess-worker.ts';

const INSTANCES = 3;
const SIZES: Record<Backend, { shops: number; due: number }> = {
  postgres: { shops: 10_000, due: 300 },
  sqlite: { shops: 600, due: 30 },
  mysql: { shops: 600, due: 30 },
  redis: { shops: 600, due: 30 },
};
/** The keeper's default: access tokens expiring within 10 minutes are renewed ahead. */
const AHEAD_MS = 10 * 60_000;
/** Install time + 55 minutes: the installed tokens expire in 5 minutes, inside AHEAD_MS. */
const MAKE_DUE_MS = 55 * 60_000;

/** Writes `rows` (new ones) into the token table of the PostgreSQL store `url`, 1,000 a statement. */
async function insertPostgres(url: string, rows: TokenRow[]): Promise<void> {
  const schema = new URL(url).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: url.split('?')[0] });
  await client.connect();
  try {
    const columns = TOKEN_COLUMNS.map(({ column }) => column).join(', ');
    for (let i = 0; i < rows.length; i += 1000) {
      const page = rows.slice(i, i + 1000);
      const tuples = page.map(
        (_, r) => `(${TOKEN_COLUMNS.map((_, c) => `$${r * TOKEN_COLUMNS.length + c + 1}`).join(', ')})`,
      );
      await client.query(
        `INSERT INTO "${schema}".shoptoken_tokens (${columns}) VALUES ${tuples.join(', ')}`,
        page.flatMap((row) => rowValues(row)),
      );
    }
  } finally {
    await client.end();
  }
}

/** Writes `rows` through the storage, 200 at a time. */
async function putAll(storage: TokenStorage, rows: TokenRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await Promise.all(rows.slice(i, i + 200).map((row) => storage.put(row)));
}

const reasons = await unavailable();
const stores = new Stores();
let emulator: Emulator;
let origin: string;
let closeEmulator: (() => Promise<void>) | undefined;

before(async () => {
  ({ emulator, origin, close: closeEmulator } = await listeningEmulator());
});
after(async () => {
  await closeEmulator?.();
  await stores.dropAll();
});

for (const backend of BACKENDS) {
  const { shops: total, due } = SIZES[backend];
  describe(`${backend}: the keeper on ${INSTANCES} instances`, () => {
    storeTest(
      backend,
      reasons[backend],
      `${INSTANCES} instances × ${total} shops with ${due} due → exactly ${due} refreshes, O(due) reads`,
      async () => {
        const database = await stores.fresh(backend, 'keeper');
        const keys = freshKeys();
        const vault = await testVault(database, keys, origin, emulator);
        const { storage } = await openConfiguredStorage({ database, cwd: process.cwd() });
        let workers: Worker[] = [];
        try {
          const dueShops = shopNames(`${backend}-keeper-due`, due);
          const seeded = performance.now();
          await installShops(emulator, vault, dueShops);
          // The rest: valid for a day, refresh tokens good for 60 days — due on no index.
          const now = emulator.clock.now();
          const idle = shopNames(`${backend}-keeper-idle`, total - due).map((shop) =>
            offlineRow('', shop, {
              accessToken: sealed(`idle-access-${shop}`),
              refreshToken: sealed(`idle-refresh-${shop}`),
              expiresAt: now + 86_400_000,
              refreshTokenExpiresAt: now + 60 * 86_400_000,
              createdAt: now,
              updatedAt: now,
            }),
          );
          if (backend === 'postgres') await insertPostgres(database, idle);
          else await putAll(storage, idle);
          const seedMs = Math.round(performance.now() - seeded);
          emulator.clock.advance(MAKE_DUE_MS);

          workers = await startWorkers(INSTANCES, workerConfig(database, keys, origin));
          const since = emulator.grants().length;
          const started = performance.now();
          const results = await Promise.all(
            workers.map((worker) =>
              worker.send<KeeperResult>({
                op: 'keeper',
                options: { aheadMs: AHEAD_MS, batchSize: 500, concurrency: 16, intervalMs: 500 },
                maxTicks: 5,
              }),
            ),
          );
          const ms = Math.round(performance.now() - started);
          const grants = refreshGrants(emulator, since);
          const dueRows = results.reduce((n, r) => n + r.rowsRead.due, 0);
          const rowsRead = results.reduce((n, r) => n + r.rowsRead.due + r.rowsRead.get + r.rowsRead.list, 0);
          const failed = results.reduce((n, r) => n + r.ticks.reduce((m, t) => m + t.failed + t.needsReauth, 0), 0);

          const tokens = await Promise.all(dueShops.map((shop) => vault.offline(shop)));
          const statuses = await Promise.all(tokens.map((t, i) => adminStatus(emulator, dueShops[i]!, t!.accessToken)));
          console.log(
            `# ${backend} keeper: ${JSON.stringify({
              shops: total,
              due,
              grants: grants.length,
              refreshedPerInstance: results.map((r) => r.ticks.reduce((n, t) => n + t.refreshed, 0)),
              ticksPerInstance: results.map((r) => r.ticks.length),
              dueRowsRead: dueRows,
              rowsRead,
              storeCalls: results.map((r) => r.calls),
              seedMs,
              ms,
            })}`,
          );
          assert.equal(grants.length, due, 'each due shop refreshed exactly once');
          assert.deepEqual(new Set(grants.map((g) => g.shop)), new Set(dueShops), 'only the due shops');
          assert.equal(failed, 0, 'no refresh failed');
          const reported = results.reduce((n, r) => n + r.ticks.reduce((m, t) => m + t.refreshed, 0), 0);
          assert.equal(reported, due, "the keepers' reports count each renewal once");
          for (const result of results) {
            assert.equal(result.ticks.at(-1)?.scanned, 0, 'each instance ends with nothing due');
            assert.equal(result.rowsRead.list, 0, 'no listing of the table');
          }
          // Each instance reads the due rows once, and again those still being renewed by another
          // instance when its next tick comes: O(due × instances), never the table.
          assert.ok(
            dueRows <= 2 * INSTANCES * due,
            `due scans read ${dueRows} rows: at most 2 × ${INSTANCES} × ${due}`,
          );
          assert.ok(rowsRead <= 5 * INSTANCES * due, `${rowsRead} rows read in all: O(due × instances)`);
          assert.ok(
            tokens.every((t) => t !== null && t.expiresAt!.getTime() > emulator.clock.now() + AHEAD_MS),
            'every due shop now holds a fresh token',
          );
          assert.ok(
            statuses.every((status) => status === ADMIN_QUERY_OK),
            'and it works',
          );
        } finally {
          await stopWorkers(workers);
          await storage.close();
          await vault.close();
        }
      },
      { timeout: 180_000 },
    );
  });
}
