/**
 * The background keeper over PostgreSQL: 100,000 expiring offline tokens, 1 % of them due (half
 * renewing ahead of access-token expiry, half idle with a refresh token about to lapse), against an
 * in-process fake token endpoint that counts each shop's grants. Seeded directly, not timed: sealed
 * rows inserted in bulk in the columns of the storage's row codec (one statement per 1,000 rows, where
 * `storage.put` manages about a thousand rows a second here), in a private schema dropped afterwards.
 *
 * Measured: one keeper's pass (ticks until a tick reads nothing) — time, rows read, refreshes, grants,
 * p50/p99 per refresh and per tick; the idle pass after it; then the due rows re-armed and three
 * instances (three vaults, each with its own pool, in this process) passing at once, sharing the
 * work through the store's leases — each due token must still be refreshed exactly once.
 */
import { randomBytes } from 'node:crypto';
import { openVault, type Vault } from '../src/open-vault.ts';
import { rowValues, TOKEN_COLUMNS } from '../src/storage/row-codec.ts';
import type { TokenRow, TokenStorage } from '../src/storage/types.ts';
import type { Keeper } from '../src/vault/keeper.ts';
import { KeyRing } from '../src/vault/keyring.ts';
import { benchRow, dueKind as dueOf } from './keeper-rows.ts';
import { forEachLimited, formatMs, percentile } from './measure.ts';
import { openOurs, prepareStore, type StoreTarget } from './services.ts';

const SHOPS = Number(process.env.BENCH_KEEPER_SHOPS ?? 100_000);
const DUE = Math.round(SHOPS / 100);
const INSTANCES = 3;
const KEEPER = { concurrency: 8, batchSize: 100 };
const BULK = 1000;

/** A token endpoint that answers every refresh with a new pair after a turn of the event loop, counting grants per shop. */
function countingTokenEndpoint(grants: Map<string, number>): typeof fetch {
  let serial = 0;
  return (async (input: string | URL | Request) => {
    const shop = new URL(String(input instanceof Request ? input.url : input)).hostname;
    grants.set(shop, (grants.get(shop) ?? 0) + 1);
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

const PLAN = { shops: SHOPS, due: DUE };
const dueKind = (n: number) => dueOf(n, SHOPS, DUE);
const row = (ring: KeyRing, n: number, now: number): TokenRow => benchRow(ring, n, PLAN, now);

/** Inserts `rows` into the token table of `target`, {@link BULK} per statement (seeding only). */
async function bulkInsert(target: StoreTarget, rows: TokenRow[]): Promise<void> {
  const pg = (await import('pg')).default;
  const url = new URL(target.ours);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const columns = TOKEN_COLUMNS.map(({ column }) => column).join(', ');
    const width = TOKEN_COLUMNS.length;
    for (let at = 0; at < rows.length; at += BULK) {
      const chunk = rows.slice(at, at + BULK);
      const tuples = chunk.map(
        (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`,
      );
      await client.query(
        `INSERT INTO "${schema}".shoptoken_tokens (${columns}) VALUES ${tuples.join(', ')}`,
        chunk.flatMap((one) => rowValues(one)),
      );
    }
  } finally {
    await client.end();
  }
}

/** One instance: a vault over its own storage (its own pool), counting rows its keeper reads and timing its refreshes. */
interface Instance {
  vault: Vault;
  keeper: Keeper;
  reads: { rows: number };
  refreshMs: number[];
  tickMs: number[];
}

async function instance(target: StoreTarget, keys: { id: string; key: Buffer }[], fetch: typeof globalThis.fetch) {
  const inner = await openOurs(target);
  const reads = { rows: 0 };
  const storage: TokenStorage = {
    ...inner,
    due: async (...args) => {
      const page = await inner.due(...args);
      reads.rows += page.length;
      return page;
    },
  };
  const vault = openVault({ storage, keys, shopify: { clientId: 'bench', clientSecret: 'bench-secret', fetch } });
  const refreshMs: number[] = [];
  // The keeper calls the vault's own `token()`: timed here, on this instance only.
  const token = vault.token.bind(vault);
  vault.token = async (shop, options) => {
    const started = performance.now();
    try {
      return await token(shop, options);
    } finally {
      refreshMs.push(performance.now() - started);
    }
  };
  // Spacing runs on the next turn instead of a real delay, so the pass measures the keeper's own work.
  const keeper = vault.keeper({ ...KEEPER, jitter: false, setTimer: (run) => setImmediate(run) });
  return { vault, keeper, reads, refreshMs, tickMs: [] } satisfies Instance;
}

/** Ticks until one reads nothing; returns rows read, refreshes, failures and elapsed ms. */
async function pass(one: Instance) {
  const before = one.reads.rows;
  const start = performance.now();
  let refreshed = 0;
  let failed = 0;
  let ticks = 0;
  for (;;) {
    const tickStart = performance.now();
    const report = await one.keeper.runOnce();
    ticks++;
    if (report.scanned === 0) break;
    one.tickMs.push(performance.now() - tickStart);
    refreshed += report.refreshed;
    failed += report.failed + report.needsReauth + report.deferred;
  }
  return { rows: one.reads.rows - before, refreshed, failed, ticks, ms: performance.now() - start };
}

/** Every due shop granted exactly once, and nothing else. */
function grantCheck(grants: Map<string, number>): { total: number; exact: boolean } {
  let total = 0;
  let exact = grants.size === DUE;
  for (const [shop, count] of grants) {
    total += count;
    if (count !== 1 || dueKind(Number(shop.slice(6, 12))) < 0) exact = false;
  }
  return { total, exact };
}

/**
 * Runs the PostgreSQL keeper benchmark and returns its Markdown section.
 *
 * @example
 * const { lines } = await keeperPostgresBench();
 */
export async function keeperPostgresBench(): Promise<{ lines: string[] }> {
  const title = `### Background keeper over PostgreSQL: ${SHOPS.toLocaleString('en-US')} shops, ${DUE.toLocaleString('en-US')} due (1 %)`;
  const prepared = await prepareStore('postgres');
  if (typeof prepared === 'string') return { lines: [title, '', prepared] };
  const { target } = prepared;
  try {
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const ring = KeyRing.from(keys);
    const now = Date.now();
    const seedStart = performance.now();
    const numbers = Array.from({ length: SHOPS }, (_, n) => n);
    // Opening the storage creates its schema (migrations run on open); the rows then go in bulk.
    const storage = await openOurs(target);
    await bulkInsert(
      target,
      numbers.map((n) => row(ring, n, now)),
    );
    const seedMs = performance.now() - seedStart;

    // One instance: a full pass, then an idle one.
    const grants = new Map<string, number>();
    const single = await instance(target, keys, countingTokenEndpoint(grants));
    const due = await pass(single);
    const idle = await pass(single);
    await single.vault.close();
    const singleGrants = grantCheck(grants);

    // Re-armed, then three instances at once.
    const dueNumbers = numbers.filter((n) => dueKind(n) >= 0);
    const rearmAt = Date.now();
    await forEachLimited(dueNumbers, 16, (n) => storage.put(row(ring, n, rearmAt)));
    await storage.close();
    const sharedGrants = new Map<string, number>();
    const fetch = countingTokenEndpoint(sharedGrants);
    const many: Instance[] = [];
    for (let i = 0; i < INSTANCES; i++) many.push(await instance(target, keys, fetch));
    const sharedStart = performance.now();
    const passes = await Promise.all(many.map((one) => pass(one)));
    const sharedMs = performance.now() - sharedStart;
    for (const one of many) await one.vault.close();
    const shared = grantCheck(sharedGrants);

    const refreshes = (instances: Instance[]) => new Float64Array(instances.flatMap((i) => i.refreshMs)).sort();
    const ticks = (instances: Instance[]) => new Float64Array(instances.flatMap((i) => i.tickMs)).sort();
    const p = (values: Float64Array) => `${formatMs(percentile(values, 0.5))} / ${formatMs(percentile(values, 0.99))}`;
    const sum = (key: 'rows' | 'refreshed' | 'failed' | 'ticks') => passes.reduce((total, x) => total + x[key], 0);
    const verdict = (g: { total: number; exact: boolean }) =>
      g.exact ? `${g.total}, one per due shop` : `**${g.total}: NOT one per due shop**`;
    return {
      lines: [
        title,
        '',
        `Seeded in ${(seedMs / 1000).toFixed(1)} s, not timed: rows sealed with the vault's key ring and inserted ${BULK} per` +
          ' statement in the columns of the storage’s row codec; the re-armed rows are written with `storage.put`.' +
          ` Keeper: concurrency ${KEEPER.concurrency}, batch ${KEEPER.batchSize}, no jitter, starts spaced by a turn of the event` +
          ' loop; fake token endpoint in process. A pass ticks until a tick reads nothing. No peer: the session-storage adapters' +
          ' have no query for due sessions (only `loadSession` by id and `findSessionsByShop`), so an app on them finds its' +
          ` ${DUE.toLocaleString('en-US')} due tokens by reading all ${SHOPS.toLocaleString('en-US')} sessions.`,
        '',
        '| keepers | pass time | rows read | ticks | refreshed | failed | grants | p50 / p99 ms per refresh | p50 / p99 ms per tick | idle pass: rows / time |',
        '|---|---|---|---|---|---|---|---|---|---|',
        `| 1 | ${due.ms.toFixed(0)} ms | ${due.rows} | ${due.ticks} | ${due.refreshed} | ${due.failed} | ${verdict(singleGrants)} |` +
          ` ${p(refreshes([single]))} | ${p(ticks([single]))} | ${idle.rows} / ${idle.ms.toFixed(1)} ms |`,
        `| ${INSTANCES} at once (re-armed) | ${sharedMs.toFixed(0)} ms | ${sum('rows')} | ${sum('ticks')} | ${sum('refreshed')} | ${sum('failed')} |` +
          ` ${verdict(shared)} | ${p(refreshes(many))} | ${p(ticks(many))} | — |`,
        '',
        `Per instance of the ${INSTANCES}: ${passes.map((x) => `${x.refreshed} refreshed, ${x.rows} rows read`).join('; ')}.` +
          ' "refreshed" counts keeper renewals that returned, including a few that found the token already renewed by' +
          ' another instance; the grants the token endpoint counted are the truth.',
      ],
    };
  } finally {
    await prepared.drop();
  }
}

if (import.meta.main) console.log((await keeperPostgresBench()).lines.join('\n'));
