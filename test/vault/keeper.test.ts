/**
 * The background keeper against the fake token endpoint: due rows only, ahead-of-expiry renewal,
 * bounded concurrency, spaced starts, needs_reauth skipped, failures isolated, and the start/stop
 * loop on fake timers. Nothing sleeps: the clock is a number and timers are queued by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { createKeeper, type KeeperOptions, type KeeperReport, type KeeperTarget } from '../../src/vault/keeper.ts';
import { CLIENT_ID, CLIENT_SECRET, FakeShopify } from './fake-shopify.ts';

const START = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const shopName = (n: number) => `shop-${String(n).padStart(4, '0')}.myshopify.com`;

/** Counts what the keeper asks the storage for. */
function counting(inner: TokenStorage) {
  const counts = { dueCalls: 0, dueRows: 0, gets: 0, lists: 0 };
  const storage: TokenStorage = {
    ...inner,
    get: (...args) => {
      counts.gets++;
      return inner.get(...args);
    },
    list: (...args) => {
      counts.lists++;
      return inner.list(...args);
    },
    due: async (...args) => {
      counts.dueCalls++;
      const rows = await inner.due(...args);
      counts.dueRows += rows.length;
      return rows;
    },
  };
  return { storage, counts };
}

/** Timers run when the test says so; `immediate` runs each at once (on a later turn). */
function fakeTimers(immediate: boolean) {
  const pending = new Map<number, { run: () => void; ms: number }>();
  const delays: number[] = [];
  let next = 0;
  return {
    delays,
    pending,
    setTimer(run: () => void, ms: number) {
      delays.push(ms);
      const id = ++next;
      if (immediate) setImmediate(run);
      else pending.set(id, { run, ms });
      return id;
    },
    clearTimer(id: unknown) {
      pending.delete(id as number);
    },
    /** Runs the timers pending now. */
    fire() {
      const due = [...pending.values()];
      pending.clear();
      for (const timer of due) timer.run();
    },
  };
}

function setup(options: { attempts?: number } = {}) {
  const clock = { now: START };
  const shopify = new FakeShopify();
  const { storage, counts } = counting(createMemoryStorage());
  const events: NeedsReauthEvent[] = [];
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: () => clock.now,
    shopify: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, baseUrl: 'https://{shop}', fetch: shopify.fetch },
    refresh: { sleep: async () => {}, attempts: options.attempts ?? 1 },
  });
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const timers = fakeTimers(true);
  const keeper = (extra: KeeperOptions = {}) =>
    vault.keeper({ jitter: false, setTimer: timers.setTimer, clearTimer: timers.clearTimer, ...extra });
  /** Stores an expiring token for `shop` that the fake knows (`issued`) or not. */
  const seed = async (shop: string, expiresIn: number, refreshExpiresIn = 80 * DAY, issued = true) => {
    const pair = issued ? shopify.issue(shop) : { accessToken: 'shpat_never_used', refreshToken: 'shprt_never_used' };
    await vault.saveOffline({
      shop,
      accessToken: pair.accessToken,
      scopes: ['write_products'],
      expiresAt: new Date(clock.now + expiresIn),
      refreshToken: pair.refreshToken,
      refreshTokenExpiresAt: new Date(clock.now + refreshExpiresIn),
    });
  };
  const refreshedShops = () => shopify.refreshRequests().map((request) => request.shop);
  return { clock, shopify, storage, counts, events, vault, timers, keeper, seed, refreshedShops };
}

describe('createKeeper options', () => {
  it('reports every bad option at once', () => {
    const { vault } = setup();
    assert.throws(
      () =>
        vault.keeper({
          intervalMs: 0,
          aheadMs: -1,
          concurrency: 0,
          batchSize: 1.5,
          jitter: 'yes' as unknown as boolean,
          setTimer: 5 as unknown as KeeperOptions['setTimer'],
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'intervalMs must be a number of milliseconds > 0',
          'aheadMs must be a number of milliseconds ≥ 0',
          'concurrency must be an integer from 1 to 100',
          'batchSize must be an integer from 1 to 10000',
          'jitter must be a boolean',
          'setTimer must be a function',
        ]);
        return true;
      },
    );
  });
});

describe('keeper.runOnce', () => {
  it('renews access tokens near expiry ahead, so token() then makes no refresh request', async () => {
    const t = setup();
    await t.seed(shopName(1), 5 * MINUTE);
    await t.seed(shopName(2), 30 * MINUTE); // not yet within aheadMs
    await t.seed(shopName(3), -2 * HOUR); // expired: an idle shop, left to the request path
    const report = await t.keeper().runOnce();
    assert.deepEqual(
      { ...report, durationMs: 0 },
      {
        scanned: 1,
        refreshed: 1,
        failed: 0,
        needsReauth: 0,
        skipped: 0,
        deferred: 0,
        paused: null,
        durationMs: 0,
      },
    );
    assert.deepEqual(t.refreshedShops(), [shopName(1)]);
    // Four minutes later the old token would be inside the 5-minute margin; the renewed one is not.
    t.clock.now += 4 * MINUTE;
    const token = await t.vault.token(shopName(1));
    assert.equal(t.shopify.refreshRequests().length, 1);
    assert.equal(token.expiresAt?.getTime(), START + HOUR);
  });

  it('reads only due rows: 1000 shops, 10 due -> 10 rows read and 10 refreshes', async () => {
    const t = setup();
    for (let n = 0; n < 1000; n++) {
      const due = n % 100 === 7;
      await t.seed(shopName(n), due ? 3 * MINUTE : 50 * MINUTE, 60 * DAY, due);
    }
    t.counts.gets = 0;
    const report = await t.keeper().runOnce();
    assert.equal(report.scanned, 10);
    assert.equal(report.refreshed, 10);
    assert.equal(t.counts.dueRows, 10);
    assert.equal(t.counts.lists, 0);
    // The keeper re-reads the row once it holds the shop's claim (another instance may have renewed
    // it), token() reads it, the refresher reads it again before refreshing: three per due shop.
    assert.ok(t.counts.gets <= 3 * 10, `gets: ${t.counts.gets}`);
    assert.deepEqual(
      t.refreshedShops().toSorted(),
      Array.from({ length: 10 }, (_, i) => shopName(i * 100 + 7)),
    );
  });

  it('refreshes an idle shop whose refresh token lapses within refreshTokenAheadMs', async () => {
    const t = setup();
    await t.seed(shopName(1), -30 * DAY, 6 * DAY); // idle, refresh token lapses in 6 days
    await t.seed(shopName(2), -30 * DAY, 8 * DAY); // idle, 8 days left: not yet
    const report = await t.keeper().runOnce();
    assert.equal(report.refreshed, 1);
    assert.deepEqual(t.refreshedShops(), [shopName(1)]);
    const row = await t.storage.get({ app: '', shop: shopName(1), kind: 'offline', userId: '' });
    assert.equal(row?.refreshTokenExpiresAt, START + 90 * DAY);
  });

  it('keeps at most `concurrency` refreshes in flight and spaces their starts', async () => {
    const t = setup();
    for (let n = 0; n < 12; n++) await t.seed(shopName(n), 2 * MINUTE);
    let inFlight = 0;
    let most = 0;
    t.shopify.beforeHandle = async () => {
      most = Math.max(most, ++inFlight);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    const report = await t.keeper({ concurrency: 3, intervalMs: 60_000, batchSize: 100 }).runOnce();
    assert.equal(report.refreshed, 12);
    assert.equal(most, 3);
    // Eleven gaps between twelve starts, each intervalMs / 2 / batchSize without jitter.
    assert.deepEqual(t.timers.delays, Array(11).fill(300));
  });

  it('jitter varies the spacing between 50 % and 150 % of the base gap', async () => {
    const t = setup();
    for (let n = 0; n < 3; n++) await t.seed(shopName(n), 2 * MINUTE);
    const draws = [0, 0.999];
    await t.keeper({ jitter: true, random: () => draws.shift() ?? 0.5 }).runOnce();
    assert.deepEqual(t.timers.delays, [150, 449]);
  });

  it('skips needs_reauth shops; a revoked shop is marked once and the others are refreshed', async () => {
    const t = setup();
    await t.seed(shopName(1), 2 * MINUTE);
    await t.seed(shopName(2), 3 * MINUTE);
    await t.seed(shopName(3), 4 * MINUTE);
    t.shopify.revoke(shopName(2));
    const keeper = t.keeper();
    const first = await keeper.runOnce();
    assert.deepEqual([first.scanned, first.refreshed, first.needsReauth, first.failed], [3, 2, 1, 0]);
    assert.deepEqual(t.events, [{ shop: shopName(2), reason: 'invalid_grant' }]);
    // An hour later all three are near expiry again; the marked shop is not even read.
    t.clock.now += HOUR - 2 * MINUTE;
    const requestsBefore = t.shopify.refreshRequests().length;
    const second = await keeper.runOnce();
    assert.deepEqual([second.scanned, second.refreshed, second.needsReauth], [2, 2, 0]);
    assert.ok(
      !t.shopify
        .refreshRequests()
        .slice(requestsBefore)
        .some((request) => request.shop === shopName(2)),
    );
    assert.equal(t.events.length, 1);
  });

  it('a transient failure is counted, does not stop the other shops, and is retried next tick', async () => {
    const t = setup();
    for (let n = 1; n <= 3; n++) await t.seed(shopName(n), n * MINUTE);
    t.shopify.faults.push({ status: 503 }); // the first refresh (shop 1, soonest) meets a 503
    const keeper = t.keeper({ concurrency: 1 });
    const first = await keeper.runOnce();
    assert.deepEqual([first.refreshed, first.failed, first.needsReauth], [2, 1, 0]);
    const row = await t.storage.get({ app: '', shop: shopName(1), kind: 'offline', userId: '' });
    assert.equal(row?.status, 'active');
    assert.equal(row?.refreshFailures, 1);
    const second = await keeper.runOnce();
    assert.deepEqual([second.scanned, second.refreshed, second.failed], [1, 1, 0]);
    assert.deepEqual(t.events, []);
  });

  it('pages forward with a cursor, so failing shops at the head do not starve the rest', async () => {
    const t = setup();
    for (let n = 1; n <= 5; n++) await t.seed(shopName(n), n * MINUTE, 80 * DAY, false); // every refresh refused...
    t.shopify.faults.push(...Array.from({ length: 10 }, () => ({ status: 503 }))); // ...transiently
    const keeper = t.keeper({ batchSize: 2, concurrency: 1 });
    const seen: string[][] = [];
    for (let tick = 0; tick < 4; tick++) {
      const before = t.shopify.refreshRequests().length;
      const report = await keeper.runOnce();
      assert.equal(report.failed, report.scanned);
      seen.push(
        t.shopify
          .refreshRequests()
          .slice(before)
          .map((request) => request.shop.slice(5, 9)),
      );
    }
    assert.deepEqual(seen, [['0001', '0002'], ['0003', '0004'], ['0005'], ['0001', '0002']]);
  });
});

describe('keeper.start / stop', () => {
  it('ticks every intervalMs after the previous tick settles, reports, and stops cleanly', async () => {
    const t = setup();
    await t.seed(shopName(1), 2 * MINUTE);
    const timers = fakeTimers(false);
    const reports: KeeperReport[] = [];
    let reported: () => void = () => {};
    const keeper = t.vault.keeper({
      jitter: false,
      intervalMs: 30_000,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
      onReport: (report) => {
        reports.push(report);
        reported();
      },
    });
    keeper.start();
    keeper.start(); // a second start is ignored
    assert.deepEqual(timers.delays, [0]);
    const firstTick = new Promise<void>((resolve) => {
      reported = resolve;
    });
    timers.fire();
    await firstTick;
    assert.equal(reports[0]?.refreshed, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(timers.delays, [0, 30_000]);
    assert.equal(timers.pending.size, 1);
    await keeper.stop();
    assert.equal(timers.pending.size, 0);
    assert.equal(reports.length, 1);
  });

  it('a tick that fails (storage down) is reported as a warning and the loop goes on', async () => {
    const t = setup();
    await t.seed(shopName(1), 2 * MINUTE);
    const timers = fakeTimers(false);
    let outages = 1;
    const due: KeeperTarget['due'] = async (index, query) => {
      if (outages-- > 0) throw new Error('storage unavailable');
      return t.storage.due(index, { ...query, app: '' });
    };
    const reports: KeeperReport[] = [];
    const keeper = createKeeper(
      { due, now: () => t.clock.now, token: (shop, options) => t.vault.token(shop, options) },
      { jitter: false, setTimer: timers.setTimer, clearTimer: timers.clearTimer, onReport: (r) => reports.push(r) },
    );
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    keeper.start();
    timers.fire();
    assert.match((await warned).message, /storage unavailable/);
    while (timers.pending.size === 0) await new Promise((resolve) => setImmediate(resolve));
    timers.fire();
    while (reports.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reports[0]?.refreshed, 1);
    await keeper.stop();
    assert.equal(timers.pending.size, 0);
  });

  it('a row another instance renewed after this keeper read its page is skipped, not renewed or counted again', async () => {
    const t = setup();
    for (let n = 0; n < 4; n++) await t.seed(shopName(n), 2 * MINUTE);
    const other = t.keeper();
    // A second instance on the same store: its page is read, then the first instance renews it all.
    let first: KeeperReport | undefined;
    const late: KeeperTarget['due'] = async (index, query) => {
      const rows = await t.storage.due(index, { ...query, app: '' });
      if (index === 'access') first ??= await other.runOnce();
      return rows;
    };
    const timers = fakeTimers(true);
    const keeper = createKeeper(
      {
        due: late,
        claims: {
          leases: t.storage.leases,
          app: '',
          current: (shop) => t.storage.get({ app: '', shop, kind: 'offline', userId: '' }),
        },
        now: () => t.clock.now,
        token: (shop, options) => t.vault.token(shop, options),
      },
      { jitter: false, setTimer: timers.setTimer, clearTimer: timers.clearTimer },
    );
    const report = await keeper.runOnce();
    assert.deepEqual([first?.refreshed, first?.skipped], [4, 0]);
    assert.deepEqual([report.scanned, report.refreshed, report.skipped, report.failed], [4, 0, 4, 0]);
    assert.equal(t.shopify.refreshRequests().length, 4);
  });

  it('stop() during a tick lets in-flight refreshes settle and starts no more', async () => {
    const t = setup();
    for (let n = 0; n < 5; n++) await t.seed(shopName(n), 2 * MINUTE);
    const timers = fakeTimers(false);
    const keeper = t.keeper({ concurrency: 1, setTimer: timers.setTimer, clearTimer: timers.clearTimer });
    const tick = keeper.runOnce();
    // The first refresh starts at once; the tick then waits out the spacing before the second.
    while (timers.pending.size === 0) await new Promise((resolve) => setImmediate(resolve));
    await keeper.stop();
    const report = await tick;
    assert.deepEqual([report.scanned, report.refreshed, report.failed], [5, 1, 0]);
    assert.equal(t.shopify.refreshRequests().length, 1);
    assert.equal(timers.pending.size, 0);
  });
});
