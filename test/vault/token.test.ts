import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { AppCredentialsError, ConfigError, RefreshDeferredError, ShoptokenError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { type Key, KeyRing, tokenAad } from '../../src/vault/keyring.ts';
import type { RefreshOptions } from '../../src/vault/refresh-options.ts';
import { CLIENT_ID, CLIENT_SECRET, FakeShopify } from './fake-shopify.ts';

const SHOP = 'cool-shop.myshopify.com';
const START = 1_700_000_000_000;
const HOUR = 3_600_000;
const MARGIN = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface SetupOptions {
  storage?: TokenStorage;
  keys?: Key[];
  shopify?: FakeShopify;
  refresh?: RefreshOptions;
  clock?: { now: number };
}

function setup(options: SetupOptions = {}) {
  const clock = options.clock ?? { now: START };
  const shopify = options.shopify ?? new FakeShopify();
  const storage = options.storage ?? createMemoryStorage();
  const keys = options.keys ?? [{ id: 'k1', key: randomBytes(32) }];
  const sleeps: number[] = [];
  const events: NeedsReauthEvent[] = [];
  const vault = openVault({
    storage,
    keys,
    now: () => clock.now,
    shopify: {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      baseUrl: 'https://{shop}',
      fetch: shopify.fetch,
    },
    refresh: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...options.refresh,
    },
  });
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const ring = KeyRing.from(keys);
  /** The refresh tokens in a stored row, opened with the test's keys. */
  const stored = async () => {
    const row = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
    const open = (sealed: string | null) =>
      sealed === null
        ? null
        : ring.open(sealed, tokenAad({ shop: SHOP, kind: 'offline', userId: '', field: 'refresh_token' }));
    return { row, refreshToken: open(row.refreshToken), previousRefreshToken: open(row.previousRefreshToken) };
  };
  return { clock, shopify, storage, keys, vault, sleeps, events, stored };
}

/** Installs `SHOP` with a first expiring pair from the fake, expiring one hour from now. */
async function install(context: ReturnType<typeof setup>) {
  const pair = context.shopify.issue(SHOP);
  await context.vault.saveOffline({
    shop: SHOP,
    accessToken: pair.accessToken,
    scopes: ['write_products'],
    expiresAt: new Date(context.clock.now + HOUR),
    refreshToken: pair.refreshToken,
    refreshTokenExpiresAt: new Date(context.clock.now + 90 * 24 * HOUR),
  });
  return pair;
}

describe('vault.token: when to refresh', () => {
  it('returns a non-expiring token as it is, without Shopify settings', async () => {
    const storage = createMemoryStorage();
    const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], now: () => START + 10 * HOUR });
    await vault.saveOffline({
      shop: SHOP,
      accessToken: 'shpat_non_expiring_value_0001',
      scopes: ['read_products'],
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
    const token = await vault.token(SHOP);
    assert.equal(token.accessToken, 'shpat_non_expiring_value_0001');
    assert.equal(token.expiring, false);
  });

  it('does not refresh a token valid for longer than the margin', async () => {
    const context = setup();
    const first = await install(context);
    context.clock.now += HOUR - MARGIN - 1;
    assert.equal((await context.vault.token(SHOP)).accessToken, first.accessToken);
    context.clock.now += 1; // exactly the margin left: still valid for the margin
    assert.equal((await context.vault.token(SHOP)).accessToken, first.accessToken);
    assert.equal(context.shopify.requests.length, 0);
  });

  it('refreshes a token within the margin and stores the new pair with both expiries', async () => {
    const context = setup();
    const first = await install(context);
    context.clock.now += HOUR - MARGIN + 1;
    const token = await context.vault.token(SHOP);
    assert.equal(context.shopify.refreshRequests().length, 1);
    assert.equal(context.shopify.requests[0]?.refreshToken, first.refreshToken);
    assert.notEqual(token.accessToken, first.accessToken);
    assert.equal(token.expiresAt?.getTime(), context.clock.now + HOUR);
    assert.equal(token.refreshTokenExpiresAt?.getTime(), context.clock.now + 7_776_000_000);
    assert.deepEqual(token.scopes, ['write_products', 'read_orders']);
    const { row, refreshToken, previousRefreshToken } = await context.stored();
    assert.equal(refreshToken, context.shopify.activeRefreshToken(SHOP));
    assert.equal(previousRefreshToken, first.refreshToken, 'the used token is kept until its replacement is used');
    assert.equal(row.status, 'active');
    assert.equal(row.createdAt, START, 'a refresh keeps createdAt');
    assert.equal((await context.vault.offline(SHOP))?.accessToken, token.accessToken);
  });

  it('refreshes a token past expiry, and again an hour later with the new refresh token', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    const second = await context.vault.token(SHOP);
    const afterFirst = await context.stored();
    context.clock.now += HOUR;
    const third = await context.vault.token(SHOP);
    assert.notEqual(third.accessToken, second.accessToken);
    const refreshes = context.shopify.refreshRequests();
    assert.equal(refreshes.length, 2);
    assert.equal(refreshes[1]?.refreshToken, afterFirst.refreshToken);
    assert.equal((await context.stored()).previousRefreshToken, afterFirst.refreshToken);
  });

  it('honours a per-call margin', async () => {
    const context = setup();
    const first = await install(context);
    assert.equal((await context.vault.token(SHOP, { marginMs: HOUR - 1 })).accessToken, first.accessToken);
    assert.equal(context.shopify.requests.length, 0);
    assert.notEqual((await context.vault.token(SHOP, { marginMs: HOUR + 1 })).accessToken, first.accessToken);
    assert.equal(context.shopify.refreshRequests().length, 1);
    await assert.rejects(context.vault.token(SHOP, { marginMs: -1 }), TypeError);
  });
});

describe('vault.token: one refresh at a time', () => {
  it('serves 200 concurrent callers in one process with exactly one refresh request', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    const tokens = await Promise.all(Array.from({ length: 200 }, () => context.vault.token(SHOP)));
    assert.equal(context.shopify.refreshRequests().length, 1);
    assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
    assert.equal(tokens[0]?.accessToken, (await context.vault.offline(SHOP))?.accessToken);
  });

  it('two vaults over one SQLite file: one refreshes, the other waits for its pair and never calls Shopify', async () => {
    const path = join(dir, 'lease.db');
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const clock = { now: START };
    const shopify = new FakeShopify();
    const a = setup({ storage: await openSqliteStorage(path), keys, clock, shopify });
    const b = setup({ storage: await openSqliteStorage(path), keys, clock, shopify });
    await install(a);
    clock.now += 2 * HOUR;
    // Hold A's request long enough that B asks while A holds the shop's refresh lease.
    shopify.beforeHandle = () => new Promise((resolve) => setTimeout(resolve, 150));
    const fromA = a.vault.token(SHOP);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [tokenA, tokenB] = await Promise.all([fromA, b.vault.token(SHOP)]);
    shopify.beforeHandle = null;
    assert.equal(shopify.refreshRequests().length, 1, 'one refresh for both processes');
    assert.equal(tokenA.accessToken, tokenB.accessToken);
    assert.deepEqual([...a.events, ...b.events], []);
    await a.vault.close();
    await b.vault.close();
  });

  it('two vaults whose leases are lost (a paused holder): both send, one compare-and-set wins, both return its token', async () => {
    const path = join(dir, 'race.db');
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const clock = { now: START };
    const shopify = new FakeShopify();
    const swaps: boolean[] = [];
    // Every lease granted to everyone: what happens when a holder's lease expired while it worked.
    const counted = (storage: TokenStorage): TokenStorage => ({
      ...storage,
      leases: { acquire: async () => true, extend: async () => true, release: async () => true },
      swap: async (key, expected, next) => {
        const swapped = await storage.swap(key, expected, next);
        swaps.push(swapped);
        return swapped;
      },
    });
    const a = setup({ storage: counted(await openSqliteStorage(path)), keys, clock, shopify });
    const b = setup({ storage: counted(await openSqliteStorage(path)), keys, clock, shopify });
    const first = await install(a);
    clock.now += 2 * HOUR;
    // Hold both requests until both processes have sent theirs with the same stored refresh token.
    let release: () => void = () => {};
    const bothSent = new Promise<void>((resolve) => {
      release = resolve;
    });
    shopify.beforeHandle = async () => {
      if (shopify.requests.length === 2) release();
      await bothSent;
    };
    const [fromA, fromB] = await Promise.all([a.vault.token(SHOP), b.vault.token(SHOP)]);
    shopify.beforeHandle = null;
    assert.deepEqual(
      shopify.refreshRequests().map((request) => request.refreshToken),
      [first.refreshToken, first.refreshToken],
    );
    assert.deepEqual(swaps.toSorted(), [false, true], 'exactly one compare-and-set wins');
    assert.equal(fromA.accessToken, fromB.accessToken);
    const { refreshToken } = await a.stored();
    assert.equal(refreshToken, shopify.activeRefreshToken(SHOP), 'the stored pair is the live one');
    // The next refresh uses the stored token and succeeds: no stale pair was written over it.
    clock.now += 2 * HOUR;
    const later = await b.vault.token(SHOP);
    assert.notEqual(later.accessToken, fromA.accessToken);
    assert.equal(shopify.refreshRequests().at(-1)?.answer, 200);
    assert.deepEqual(a.events, []);
    await a.vault.close();
    await b.vault.close();
  });
});

describe('vault.token: lost answers and transient faults', () => {
  it('commit-then-drop: the retry with the same refresh token recovers the rotated pair', async () => {
    const context = setup();
    const first = await install(context);
    context.clock.now += 2 * HOUR;
    context.shopify.faults.push({ commitThenDrop: true });
    const token = await context.vault.token(SHOP);
    const refreshes = context.shopify.refreshRequests();
    assert.deepEqual(
      refreshes.map((request) => [request.refreshToken, request.answer]),
      [
        [first.refreshToken, 'dropped'],
        [first.refreshToken, 200],
      ],
    );
    const { row, refreshToken } = await context.stored();
    assert.equal(refreshToken, context.shopify.activeRefreshToken(SHOP), 'the pair Shopify rotated to is stored');
    assert.equal(row.status, 'active');
    assert.equal(context.sleeps.length, 1);
    assert.deepEqual(context.events, []);
    assert.equal(token.accessToken, (await context.vault.offline(SHOP))?.accessToken);
  });

  it('recovers with the previous refresh token when Shopify never accepted the stored one', async () => {
    const context = setup();
    context.shopify.retryAnswersNewPair = true;
    await install(context);
    context.clock.now += 2 * HOUR;
    await context.vault.token(SHOP);
    const { refreshToken: storedToken, previousRefreshToken } = await context.stored();
    // Another process retried the used token and was answered with a new pair it never stored:
    // the stored refresh token is retired at Shopify.
    const replay = await context.shopify.fetch(`https://${SHOP}/admin/oauth/access_token`, {
      method: 'POST',
      body: JSON.stringify({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_type: 'refresh_token',
        refresh_token: previousRefreshToken,
      }),
    });
    assert.equal(replay.status, 200);
    context.clock.now += 2 * HOUR;
    const token = await context.vault.token(SHOP);
    const answers = context.shopify.refreshRequests().slice(-2);
    assert.deepEqual(
      answers.map((request) => [request.refreshToken, request.answer]),
      [
        [storedToken, 400],
        [previousRefreshToken, 200],
      ],
    );
    const after = await context.stored();
    assert.equal(after.refreshToken, context.shopify.activeRefreshToken(SHOP));
    assert.equal(after.row.status, 'active');
    assert.equal(token.accessToken, (await context.vault.offline(SHOP))?.accessToken);
    assert.deepEqual(context.events, []);
  });

  it('503 then success: refreshed after one backoff, not needs_reauth', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    context.shopify.faults.push({ status: 503 });
    await context.vault.token(SHOP);
    assert.deepEqual(
      context.shopify.refreshRequests().map((request) => request.answer),
      [503, 200],
    );
    assert.deepEqual(context.sleeps, [100], 'half (random 0.5) of the 200 ms first step');
    const { row } = await context.stored();
    assert.equal(row.status, 'active');
    assert.equal(row.refreshFailures, 0);
  });

  it('a reset then success: refreshed', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    context.shopify.faults.push({ reset: true });
    const token = await context.vault.token(SHOP);
    assert.deepEqual(
      context.shopify.refreshRequests().map((request) => request.answer),
      ['dropped', 200],
    );
    assert.equal(token.accessToken, (await context.vault.offline(SHOP))?.accessToken);
  });

  it('503 forever: bounded retries with growing, capped backoff, then a retryable error; the shop stays active', async () => {
    const context = setup({ refresh: { random: () => 0.999, maxDelayMs: 500 } });
    const first = await install(context);
    context.clock.now += 2 * HOUR;
    context.shopify.faults.push(...Array.from({ length: 10 }, () => ({ status: 503 })));
    const error = await context.vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(error instanceof ShoptokenError);
    assert.equal(error.retryable, true);
    assert.notEqual(error.code, 'ERR_NEEDS_REAUTH');
    assert.equal(context.shopify.refreshRequests().length, 4);
    assert.deepEqual(context.sleeps, [199, 399, 499]);
    const { row, refreshToken } = await context.stored();
    assert.equal(row.status, 'active');
    assert.equal(refreshToken, first.refreshToken);
    assert.equal(row.refreshFailures, 1);
    assert.equal(row.lastRefreshError, 'ERR_UNEXPECTED_RESPONSE (HTTP 503)');
    assert.deepEqual(context.events, []);
    // Shopify is back: the next call refreshes and clears the failure count.
    context.shopify.faults.length = 0;
    await context.vault.token(SHOP);
    assert.equal((await context.stored()).row.refreshFailures, 0);
  });
});

describe('vault.token: refusals', () => {
  it('revoked refresh token: needs_reauth and one event, then no more requests', async () => {
    const context = setup();
    await install(context);
    context.shopify.revoke(SHOP);
    context.clock.now += 2 * HOUR;
    const error = await context.vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(error instanceof ShoptokenError);
    assert.equal(error.code, 'ERR_NEEDS_REAUTH');
    assert.equal(error.retryable, false);
    assert.deepEqual(context.events, [{ shop: SHOP, reason: 'invalid_grant' }]);
    assert.equal((await context.stored()).row.status, 'needs_reauth');
    const requests = context.shopify.requests.length;
    await assert.rejects(context.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal(context.shopify.requests.length, requests, 'a shop marked needs_reauth is not refreshed again');
    assert.equal(context.events.length, 1);
    // A new install makes the shop active again.
    context.clock.now += HOUR;
    const again = await install(context);
    assert.equal((await context.vault.token(SHOP)).accessToken, again.accessToken);
    assert.equal((await context.stored()).row.status, 'active');
  });

  it('invalid_grant after another process refreshed: re-reads and returns its token, no needs_reauth', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    await context.vault.token(SHOP); // now the row also holds a previous refresh token
    context.clock.now += 2 * HOUR;
    const before = context.shopify.requests.length;
    let winner = '';
    context.shopify.beforeHandle = async () => {
      context.shopify.beforeHandle = null;
      // Meanwhile another process installs a new pair: the token this request carries is retired.
      winner = (await install(context)).accessToken;
    };
    const token = await context.vault.token(SHOP);
    assert.deepEqual(
      context.shopify.requests.slice(before).map((request) => request.answer),
      [400],
      'the refusal is checked against the store before anything else is tried',
    );
    assert.equal(token.accessToken, winner);
    assert.equal((await context.stored()).row.status, 'active');
    assert.deepEqual(context.events, []);
  });

  it('invalid_client (a wrong secret): the app is at fault, so no shop is marked and later calls fail fast', async () => {
    const shopify = new FakeShopify();
    const storage = createMemoryStorage();
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const clock = { now: START };
    const seeded = setup({ shopify, storage, keys, clock });
    await install(seeded);
    const events: unknown[] = [];
    const vault = openVault({
      storage,
      keys,
      now: () => clock.now,
      shopify: { clientId: CLIENT_ID, secrets: ['a-rotated-wrong-secret', CLIENT_SECRET], fetch: shopify.fetch },
    });
    for (const name of ['needs_reauth', 'app_credentials_rejected', 'app_credentials_restored'] as const) {
      vault.on(name, (event) => {
        events.push({ name, ...event });
      });
    }
    clock.now += 2 * HOUR;
    const error = await vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(error instanceof AppCredentialsError);
    assert.equal(error.code, 'ERR_APP_CREDENTIALS');
    assert.equal(error.retryable, true);
    assert.match(error.message, /SHOPIFY_API_KEY and SHOPIFY_API_SECRET/);
    assert.ok(!error.message.includes('a-rotated-wrong-secret') && !error.message.includes(CLIENT_SECRET));
    assert.deepEqual(events, [
      { name: 'app_credentials_rejected', grant: 'refresh_token', reason: 'invalid_client (HTTP 400)' },
    ]);
    assert.equal(shopify.requests.length, 1, 'the previous refresh token is not tried for the app’s fault');
    const row = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
    assert.equal(row.status, 'active');
    assert.equal(row.refreshFailures, 0, 'the row is not touched');
    assert.deepEqual(vault.appCredentials(), {
      status: 'rejected',
      since: new Date(clock.now),
      reason: 'invalid_client (HTTP 400)',
      grant: 'refresh_token',
      nextProbeAt: new Date(clock.now + 60_000),
    });
    // Within the probe interval: refused at once, no request.
    await assert.rejects(vault.token(SHOP), { code: 'ERR_APP_CREDENTIALS' });
    assert.equal(shopify.requests.length, 1);
    assert.equal(events.length, 1);
  });

  it('a lapsed refresh token: needs_reauth without a request', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 91 * 24 * HOUR;
    await assert.rejects(context.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal(context.shopify.requests.length, 0);
    assert.deepEqual(context.events, [{ shop: SHOP, reason: 'refresh_token_expired' }]);
  });

  it('an undocumented 4xx is not a refusal: held for 5 minutes, recorded, never marked', async () => {
    const context = setup();
    await install(context);
    context.clock.now += 2 * HOUR;
    context.shopify.faults.push({ status: 400 });
    const error = await context.vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(error instanceof RefreshDeferredError);
    assert.equal(error.code, 'ERR_REFRESH_DEFERRED');
    assert.equal(error.retryable, true);
    assert.equal(error.retryAt.getTime(), context.clock.now + 5 * 60_000);
    const { row } = await context.stored();
    assert.equal(row.status, 'active');
    assert.equal(row.lastRefreshError, 'ERR_UNEXPECTED_RESPONSE (HTTP 400)');
    assert.equal(context.shopify.requests.length, 1, 'the previous refresh token is not tried');
    assert.deepEqual(context.events, []);
  });

  it('an unknown shop: ERR_NEEDS_REAUTH', async () => {
    const context = setup();
    await assert.rejects(context.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    await assert.rejects(context.vault.token('Not A Shop'), TypeError);
  });
});

describe('vault.token: configuration', () => {
  it('refreshing without Shopify settings is a clear ConfigError; a fresh token needs none', async () => {
    const storage = createMemoryStorage();
    const clock = { now: START };
    const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], now: () => clock.now });
    await vault.saveOffline({
      shop: SHOP,
      accessToken: 'shpat_expiring_value_0001',
      scopes: [],
      expiresAt: new Date(START + HOUR),
      refreshToken: 'shprt_expiring_value_0001',
      refreshTokenExpiresAt: new Date(START + 90 * 24 * HOUR),
    });
    assert.equal((await vault.token(SHOP)).accessToken, 'shpat_expiring_value_0001');
    clock.now += HOUR;
    const error = await vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /shopify/);
    assert.ok(!error.message.includes('shprt_expiring_value_0001'));
  });

  it('checks the Shopify and refresh options when opened, reporting every problem and no secret', () => {
    const error = (() => {
      try {
        openVault({
          storage: createMemoryStorage(),
          keys: [{ id: 'k1', key: randomBytes(32) }],
          shopify: { clientId: '', clientSecret: 'a-secret-value', secrets: ['other'], baseUrl: 'https://example.com' },
          refresh: { attempts: 0, marginMs: -5, sleep: 5 as unknown as () => Promise<void> },
        });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 6, error.problems.join('\n'));
    assert.ok(!error.message.includes('a-secret-value'));
  });
});

describe('vault.token: no refresh token anywhere', () => {
  it('never hands out a refresh token: results, metadata, events and errors', async () => {
    const context = setup();
    const first = await install(context);
    context.clock.now += 2 * HOUR;
    const token = await context.vault.token(SHOP);
    const { refreshToken } = await context.stored();
    context.shopify.revoke(SHOP);
    context.clock.now += 2 * HOUR;
    const error = await context.vault.token(SHOP).catch((e: unknown) => e);
    const rendered = [
      JSON.stringify(token),
      inspect(token, { showHidden: true, depth: 10 }),
      JSON.stringify({ ...token }),
      JSON.stringify(await context.vault.list()),
      JSON.stringify(context.events),
      String(error),
      inspect(error, { depth: 10 }),
    ].join('\n');
    for (const secret of [first.refreshToken, refreshToken!, CLIENT_SECRET]) {
      assert.ok(!rendered.includes(secret), 'a refresh token or the secret is visible');
    }
    assert.ok(!Reflect.ownKeys(token).some((key) => /refresh_?token$/i.test(String(key))));
  });
});
