/**
 * The background keeper over SQLite with 10k and 100k shops, most not due and a few hundred due
 * (half renewing ahead of access-token expiry, half idle with a refresh token about to lapse),
 * against an in-process fake token endpoint. Reports RSS after seeding and after a keeper pass,
 * rows read per pass, and time per pass: memory should stay flat and work follow the due rows,
 * not the table. A second pass, with nothing due, shows the idle cost.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVault } from '../src/open-vault.ts';
import { openSqliteStorage } from '../src/storage/sqlite.ts';
import type { TokenStorage } from '../src/storage/types.ts';
import type { Keeper } from '../src/vault/keeper.ts';
import { KeyRing } from '../src/vault/keyring.ts';
import { benchRow } from './keeper-rows.ts';

const SIZES = [10_000, 100_000];
const DUE = 300;

/** A token endpoint that answers every refresh with a new pair, after a turn of the event loop. */
function fakeTokenEndpoint(): typeof fetch {
  let serial = 0;
  return (async () => {
    await new Promise((resolve) => setImmediate(resolve));
    serial++;
    return Response.json({
      access_token: `shpat_bench_${serial}`,
      expires_in: 3600,
      refresh_token: `shprt_bench_${serial}`,
      refresh_token_expires_in: 7_776_000,
      scope: 'write_products',
    });
  }) as typeof fetch;
}

/** Seeds `count` sealed offline rows; `DUE` of them, evenly spread, are due, alternately by each rule. */
async function seed(storage: TokenStorage, ring: KeyRing, count: number, now: number): Promise<void> {
  for (let n = 0; n < count; n++) await storage.put(benchRow(ring, n, { shops: count, due: DUE }, now));
}

/** Ticks until one reads nothing; returns rows read, refreshes and elapsed ms. */
async function pass(keeper: Keeper, reads: { rows: number }) {
  const before = reads.rows;
  const start = performance.now();
  let refreshed = 0;
  let failed = 0;
  for (;;) {
    const report = await keeper.runOnce();
    refreshed += report.refreshed;
    failed += report.failed + report.needsReauth;
    if (report.scanned === 0) break;
  }
  return { rows: reads.rows - before, refreshed, failed, ms: performance.now() - start };
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/**
 * Runs the keeper benchmark and returns its Markdown section.
 *
 * @example
 * const { lines } = await keeperBench();
 */
export async function keeperBench(): Promise<{ lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'shoptoken-keeper-bench-'));
  const rows: string[] = [];
  try {
    for (const size of SIZES) {
      const keys = [{ id: 'k1', key: randomBytes(32) }];
      const inner = await openSqliteStorage(join(dir, `keeper-${size}.db`));
      const reads = { rows: 0 };
      const storage: TokenStorage = {
        ...inner,
        due: async (...args) => {
          const page = await inner.due(...args);
          reads.rows += page.length;
          return page;
        },
      };
      const now = Date.now();
      const seedStart = performance.now();
      await seed(storage, KeyRing.from(keys), size, now);
      const seedMs = performance.now() - seedStart;
      const rssSeeded = process.memoryUsage().rss;
      const vault = openVault({
        storage,
        keys,
        shopify: { clientId: 'bench', clientSecret: 'bench-secret', fetch: fakeTokenEndpoint() },
      });
      // Spacing runs on the next turn instead of a real delay, so the pass measures the keeper's own work.
      const keeper = vault.keeper({ jitter: false, concurrency: 8, setTimer: (run) => setImmediate(run) });
      const due = await pass(keeper, reads);
      const rssPassed = process.memoryUsage().rss;
      const idle = await pass(keeper, reads);
      await vault.close();
      rows.push(
        `| ${size.toLocaleString('en-US')} | ${DUE} | ${due.rows} | ${due.refreshed} | ${due.failed} | ` +
          `${due.ms.toFixed(0)} ms | ${idle.rows} / ${idle.ms.toFixed(1)} ms | ${mb(rssSeeded)} | ${mb(rssPassed)} | ` +
          `${(seedMs / 1000).toFixed(1)} s |`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    lines: [
      '### Background keeper over SQLite (fake token endpoint, concurrency 8, batch 100)',
      '',
      '| shops | due | rows read (pass) | refreshed | failed | pass time | idle pass: rows / time | RSS after seeding | RSS after pass | seeding |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      'A pass ticks until a tick reads nothing. Work follows the due rows (an indexed page per tick), not the table.',
    ],
  };
}

if (import.meta.main) console.log((await keeperBench()).lines.join('\n'));
