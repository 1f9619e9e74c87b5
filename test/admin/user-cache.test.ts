/** createUserCache: entries keyed by shop and user, expiry by ttl, LRU bound; and through the Admin client. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdminResult } from '../../src/admin/response.ts';
import { createUserCache, type UserCacheKey } from '../../src/admin/user-cache.ts';
import { ConfigError } from '../../src/errors.ts';
import { installOffline, SHOP, setup, signIn } from './fixture.ts';

const OTHER_SHOP = 'other-shop.myshopify.com';
const QUERY = '{ orders(first: 2) { nodes { id } } }';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const key = (userId: string | null, extra: Partial<UserCacheKey> = {}): UserCacheKey => ({
  shop: SHOP,
  userId,
  query: QUERY,
  ...extra,
});

describe('createUserCache', () => {
  it('never serves one user the entry of another, nor the offline entry to a user (or back)', () => {
    const cache = createUserCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    cache.set(key('1'), 'user 1');
    assert.equal(cache.get(key('1')), 'user 1');
    assert.equal(cache.get(key('2')), undefined);
    assert.equal(cache.get(key(null)), undefined);
    cache.set(key(null), 'offline');
    assert.equal(cache.get(key(null)), 'offline');
    assert.equal(cache.get(key('1')), 'user 1');
  });

  it('keys by shop, query and variables too (variables in any key order)', () => {
    const cache = createUserCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    cache.set(key('1', { variables: { a: 1, b: { c: 2, d: 3 } } }), 'v');
    assert.equal(cache.get(key('1', { variables: { b: { d: 3, c: 2 }, a: 1 } })), 'v');
    assert.equal(cache.get(key('1', { variables: { a: 2, b: { c: 2, d: 3 } } })), undefined);
    assert.equal(cache.get(key('1', { shop: OTHER_SHOP, variables: { a: 1, b: { c: 2, d: 3 } } })), undefined);
    assert.equal(
      cache.get(key('1', { query: '{ shop { name } }', variables: { a: 1, b: { c: 2, d: 3 } } })),
      undefined,
    );
  });

  it('expires entries after ttlMs', () => {
    const time = clock();
    const cache = createUserCache<string>({ ttlMs: 1000, maxEntries: 10, now: time.now });
    cache.set(key('1'), 'v');
    time.advance(999);
    assert.equal(cache.get(key('1')), 'v');
    time.advance(1);
    assert.equal(cache.get(key('1')), undefined);
    assert.equal(cache.size, 0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = createUserCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    cache.set(key('1'), 'one');
    cache.set(key('2'), 'two');
    assert.equal(cache.get(key('1')), 'one');
    cache.set(key('3'), 'three');
    assert.equal(cache.size, 2);
    assert.equal(cache.get(key('2')), undefined);
    assert.equal(cache.get(key('1')), 'one');
    assert.equal(cache.get(key('3')), 'three');
  });

  it('wrap calls fn on a miss only, and does not cache a rejection', async () => {
    const cache = createUserCache<number>({ ttlMs: 60_000, maxEntries: 10 });
    let calls = 0;
    const fn = async () => ++calls;
    assert.equal(await cache.wrap(key('1'), fn), 1);
    assert.equal(await cache.wrap(key('1'), fn), 1);
    assert.equal(await cache.wrap(key('2'), fn), 2);
    await assert.rejects(
      cache.wrap(key('3'), () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(cache.get(key('3')), undefined);
  });

  it('requires shop and user in every key', () => {
    const cache = createUserCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    assert.throws(() => cache.get({ shop: SHOP, query: QUERY } as unknown as UserCacheKey), TypeError);
    assert.throws(() => cache.set({ shop: 'Bad Shop', userId: '1', query: QUERY }, 'v'), TypeError);
    assert.throws(() => cache.get({ shop: SHOP, userId: 'abc', query: QUERY }), TypeError);
  });

  it('checks its options, every problem at once', () => {
    assert.throws(
      () => createUserCache({ ttlMs: 0, maxEntries: 1.5, now: 3 as never }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 3,
    );
  });
});

describe('createUserCache with the Admin client', () => {
  it("user A's orders are not served to user B, who lacks the scope; offline and online are separate", async () => {
    const t = setup();
    await installOffline(t);
    const sam = await signIn(t, 'Sam');
    const rita = await signIn(t, 'Rita');
    const cache = createUserCache<AdminResult<{ orders: { nodes: unknown[] } | null }>>({
      ttlMs: 60_000,
      maxEntries: 100,
      now: t.clock.now,
    });
    const ask = (userId: string | null) =>
      cache.wrap({ shop: SHOP, userId, query: QUERY }, () =>
        (userId === null ? t.admin(SHOP) : t.admin(SHOP, { userId })).request(QUERY),
      );
    const samResult = await ask(sam);
    assert.ok(Array.isArray(samResult.data?.orders?.nodes));
    const ritaResult = await ask(rita);
    assert.equal(ritaResult.data?.orders, null);
    assert.equal(ritaResult.errors[0]?.extensions?.code, 'ACCESS_DENIED');
    await ask(null);
    await ask(sam);
    const graphqlRequests = () => t.emulator.requests().filter((request) => request.endpoint === 'graphql').length;
    assert.equal(graphqlRequests(), 3);
    t.clock.advance(60_000);
    await ask(sam);
    assert.equal(graphqlRequests(), 4);
  });
});
