/** The in-memory state store: single use, TTL, bounded size. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStateStore, type StateRecord } from '../../src/auth/state-store.ts';

const record = (state: string, createdAt: number): StateRecord => ({
  state,
  shop: 'cool-shop.myshopify.com',
  leg: 'install',
  createdAt,
});

describe('memory state store', () => {
  it('returns a state once', async () => {
    const store = createMemoryStateStore({ now: () => 0 });
    await store.save(record('s1', 0));
    assert.deepEqual(await store.take('s1'), record('s1', 0));
    assert.equal(await store.take('s1'), null);
    assert.equal(await store.take('unknown'), null);
  });

  it('forgets states older than the TTL', async () => {
    let now = 0;
    const store = createMemoryStateStore({ now: () => now, ttlSeconds: 600 });
    await store.save(record('fresh', 0));
    await store.save(record('old', 0));
    now = 600_000;
    assert.ok(await store.take('fresh'), 'exactly 10 minutes is still valid');
    now = 600_001;
    assert.equal(await store.take('old'), null);
  });

  it('keeps at most maxEntries pending states, dropping the oldest', async () => {
    const store = createMemoryStateStore({ now: () => 0, maxEntries: 2 });
    await store.save(record('a', 0));
    await store.save(record('b', 0));
    await store.save(record('c', 0));
    assert.equal(await store.take('a'), null);
    assert.ok(await store.take('b'));
    assert.ok(await store.take('c'));
  });

  it('stores a copy, so later changes to the record do not leak in', async () => {
    const store = createMemoryStateStore({ now: () => 0 });
    const r = record('s', 0);
    await store.save(r);
    r.shop = 'evil.myshopify.com';
    assert.equal((await store.take('s'))?.shop, 'cool-shop.myshopify.com');
  });
});
