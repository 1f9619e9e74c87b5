/**
 * createAdmin through the emulator: a current token on every request, one refresh and one retry
 * after a 401, needs_reauth after a second, user re-auth for online tokens, throttling waited out
 * with the restore rate, ACCESS_DENIED surfaced. One frozen clock; the injected sleep moves it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdmin, UserReauthError } from '../../src/admin/admin.ts';
import { ConfigError, ShoptokenError, UnexpectedResponseError } from '../../src/errors.ts';
import { APP, graphqlStatuses, HOUR, installOffline, refreshGrants, SHOP, setup, signIn } from './fixture.ts';

const SHOP_QUERY = '{ shop { name } }';
const ORDERS_QUERY = '{ orders(first: 2) { nodes { id } } }';

const isNeedsReauth = (error: unknown) => error instanceof ShoptokenError && error.code === 'ERR_NEEDS_REAUTH';

describe('admin(shop): offline token', () => {
  it('answers data and extensions.cost; an expired token is refreshed before the request, never sent', async () => {
    const t = setup();
    const installed = await installOffline(t);
    t.clock.advance(2 * HOUR);
    const result = await t.admin(SHOP).request<{ shop: { name: string } }>(SHOP_QUERY);
    assert.equal(typeof result.data?.shop.name, 'string');
    assert.deepEqual(result.errors, []);
    assert.equal(result.extensions.cost?.requestedQueryCost, 1);
    assert.equal(result.extensions.cost?.actualQueryCost, 1);
    assert.equal(result.extensions.cost?.throttleStatus.restoreRate, 100);
    assert.deepEqual(graphqlStatuses(t.emulator), [200]);
    assert.equal(refreshGrants(t.emulator).length, 1);
    assert.notEqual((await t.vault.offline(SHOP))?.accessToken, installed.accessToken);
  });

  it('a 401 → one refresh and exactly one retry → success, no needs_reauth', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401, times: 1 });
    const result = await t.admin(SHOP).request(SHOP_QUERY);
    assert.ok(result.data?.shop);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 200]);
    assert.equal(refreshGrants(t.emulator).length, 1);
    assert.deepEqual(t.events, []);
    assert.equal((await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
  });

  it('a token Shopify already expired while the vault believed it valid is refreshed and retried once', async () => {
    const t = setup();
    const installed = await installOffline(t, { expiresInMs: 24 * HOUR });
    t.clock.advance(HOUR + 1);
    const result = await t.admin(SHOP).request(SHOP_QUERY);
    assert.ok(result.data?.shop);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 200]);
    assert.equal(refreshGrants(t.emulator).length, 1);
    assert.notEqual((await t.vault.offline(SHOP))?.accessToken, installed.accessToken);
  });

  it('concurrent 401s share one refresh: no refresh storm', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401, times: 5 });
    const results = await Promise.all(Array.from({ length: 5 }, () => t.admin(SHOP).request(SHOP_QUERY)));
    assert.ok(results.every((result) => result.data?.shop));
    assert.equal(refreshGrants(t.emulator).length, 1);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]);
  });

  it('a second 401 after the refresh → shop marked needs_reauth, event, ERR_NEEDS_REAUTH', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401, times: 2 });
    await assert.rejects(t.admin(SHOP).request(SHOP_QUERY), isNeedsReauth);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 401]);
    assert.equal(refreshGrants(t.emulator).length, 1);
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'admin_unauthorized' }]);
    const row = await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.equal(row?.status, 'needs_reauth');
    assert.equal(row?.lastRefreshError, 'admin_unauthorized');
  });

  it('vault.markNeedsReauth never marks a token stored after the refused one, and marks once', async () => {
    const t = setup();
    const refused = await installOffline(t);
    const newer = await installOffline(t);
    assert.equal(await t.vault.markNeedsReauth(SHOP, 'admin_unauthorized', refused.accessToken), false);
    assert.equal((await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
    assert.deepEqual(t.events, []);
    assert.equal(await t.vault.markNeedsReauth(SHOP, 'admin_unauthorized', newer.accessToken), true);
    assert.equal(await t.vault.markNeedsReauth(SHOP, 'admin_unauthorized', newer.accessToken), false);
    assert.equal((await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'needs_reauth');
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'admin_unauthorized' }]);
  });

  it('an uninstalled shop: the forced refresh is refused (dead refresh token) → needs_reauth, no retry', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.uninstall(SHOP, APP.clientId);
    await assert.rejects(t.admin(SHOP).request(SHOP_QUERY), isNeedsReauth);
    assert.deepEqual(graphqlStatuses(t.emulator), [401]);
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'refresh_token_revoked' }]);
  });

  it('a revoked non-expiring token: read again, retried once, marked needs_reauth once, then never sent again', async () => {
    const t = setup();
    await installOffline(t, { expiring: false });
    const before = await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    t.emulator.uninstall(SHOP, APP.clientId);
    await assert.rejects(t.admin(SHOP).request(SHOP_QUERY), isNeedsReauth);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 401]);
    assert.equal(refreshGrants(t.emulator).length, 0);
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'admin_unauthorized' }]);
    const after = await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.equal(after?.status, 'needs_reauth');
    assert.equal(after?.accessToken, before?.accessToken, 'the token itself is left as it was');
    // The dead token is not sent again: the vault refuses the shop until a new install.
    await assert.rejects(t.admin(SHOP).request(SHOP_QUERY), isNeedsReauth);
    assert.deepEqual(graphqlStatuses(t.emulator), [401, 401]);
    assert.equal(t.events.length, 1, 'the event fires once');
  });

  it('a 5xx is thrown as a retryable error; nothing is refreshed or marked', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 503 });
    const error = await t
      .admin(SHOP)
      .request(SHOP_QUERY)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof UnexpectedResponseError);
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.equal(refreshGrants(t.emulator).length, 0);
    assert.deepEqual(t.events, []);
  });
});

describe('admin(shop, { userId }): online token', () => {
  it('a 401 → the user must sign in again; no retry, no refresh, the shop is not marked', async () => {
    const t = setup();
    const installed = await installOffline(t);
    const userId = await signIn(t, 'Sam');
    t.emulator.faults.add({ endpoint: 'graphql', status: 401 });
    const error = await t
      .admin(SHOP, { userId })
      .request(SHOP_QUERY)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof UserReauthError);
    assert.equal(error.code, 'ERR_NEEDS_REAUTH');
    assert.equal(error.userId, userId);
    assert.deepEqual(graphqlStatuses(t.emulator), [401]);
    assert.equal(refreshGrants(t.emulator).length, 0);
    assert.deepEqual(t.events, []);
    assert.equal((await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
    assert.equal((await t.vault.offline(SHOP))?.accessToken, installed.accessToken);
  });

  it('an expired online token → user re-auth error without a request', async () => {
    const t = setup();
    await installOffline(t);
    const userId = await signIn(t, 'Sam');
    t.clock.advance(25 * HOUR);
    await assert.rejects(t.admin(SHOP, { userId }).request(SHOP_QUERY), UserReauthError);
    assert.deepEqual(graphqlStatuses(t.emulator), []);
  });

  it('ACCESS_DENIED surfaces in errors for a user lacking the scope; the offline token reads the data', async () => {
    const t = setup();
    await installOffline(t);
    const rita = await signIn(t, 'Rita');
    const denied = await t.admin(SHOP, { userId: rita }).request<{ orders: unknown }>(ORDERS_QUERY);
    assert.equal(denied.data?.orders, null);
    assert.equal(denied.errors[0]?.extensions?.code, 'ACCESS_DENIED');
    assert.deepEqual(denied.errors[0]?.path, ['orders']);
    assert.ok(denied.extensions.cost);
    const allowed = await t.admin(SHOP).request<{ orders: { nodes: unknown[] } }>(ORDERS_QUERY);
    assert.deepEqual(allowed.errors, []);
    assert.ok(Array.isArray(allowed.data?.orders.nodes));
  });
});

describe('THROTTLED', () => {
  const throttle = { maximumAvailable: 10, restoreRate: 2 };
  // 1 (products) + 5 (first) + 1 (nodes) = 7 points in the emulator's cost model.
  const query = '{ products(first: 5) { nodes { id } } }';

  it('waits (requested − available) / restoreRate, then succeeds', async () => {
    const t = setup({ throttle });
    await installOffline(t);
    const client = t.admin(SHOP);
    const first = await client.request(query);
    assert.equal(first.extensions.cost?.throttleStatus.currentlyAvailable, 3);
    const second = await client.request(query);
    assert.deepEqual(t.sleeps, [((7 - 3) / 2) * 1000]);
    assert.deepEqual(second.errors, []);
    assert.equal(second.extensions.cost?.actualQueryCost, 7);
    assert.equal(t.emulator.requests().filter((request) => request.endpoint === 'graphql').length, 3);
  });

  it('adds the jitter to the wait', async () => {
    const t = setup({ throttle, admin: { random: () => 0.5 } });
    await installOffline(t);
    await t.admin(SHOP).request(query);
    await t.admin(SHOP).request(query);
    assert.deepEqual(t.sleeps, [2000 + 50]);
  });

  it('returns the throttled result when the wait would pass maxThrottleWaitMs', async () => {
    const t = setup({ throttle, admin: { maxThrottleWaitMs: 1000 } });
    await installOffline(t);
    await t.admin(SHOP).request(query);
    const throttled = await t.admin(SHOP).request(query);
    assert.deepEqual(t.sleeps, []);
    assert.equal(throttled.errors[0]?.extensions?.code, 'THROTTLED');
    assert.equal(throttled.extensions.cost?.actualQueryCost, null);
  });

  it('never waits for a query that costs more than the bucket holds', async () => {
    const t = setup({ throttle });
    await installOffline(t);
    const result = await t.admin(SHOP).request('{ products(first: 20) { nodes { id } } }');
    assert.equal(result.errors[0]?.extensions?.code, 'THROTTLED');
    assert.deepEqual(t.sleeps, []);
  });
});

describe('createAdmin options', () => {
  it('reports every bad option at once', () => {
    const t = setup();
    assert.throws(
      () =>
        createAdmin(t.vault, {
          shopifyBaseUrl: 'https://example.com',
          apiVersion: '2026',
          sleep: 5 as never,
          maxThrottleWaitMs: -1,
        }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 4,
    );
    assert.throws(() => createAdmin({} as never), ConfigError);
  });

  it('rejects a bad shop or user id when a client is asked for', () => {
    const t = setup();
    assert.throws(() => t.admin('Not A Shop'), TypeError);
    assert.throws(() => t.admin(SHOP, { userId: 'abc' }), TypeError);
  });
});
