/**
 * The battery's coordination rules: leases (exclusive, expiring, owner-only) and OAuth states
 * (single use, expiring) — within one connection and, for a store shared by several connections,
 * across them, which is what several instances of an app do.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenStorage } from '../storage/types.ts';
import { offlineKey, offlineRow, refreshedRow, type StorageFactory, uniqueApp, withStorage } from './fixtures.ts';

const key = (what: string): string => `conformance:${what}:${randomUUID()}`;

export function coordinationRules(open: StorageFactory, shared: boolean): void {
  it('leases: one owner at a time; only the owner extends or releases; acquire again extends', async () => {
    await withStorage(open, async ({ leases }) => {
      const k = key('lease');
      assert.equal(await leases.acquire(k, 'a', 10_000), true);
      assert.equal(await leases.acquire(k, 'b', 10_000), false);
      assert.equal(await leases.acquire(k, 'a', 10_000), true, 'the holder may take it again');
      assert.equal(await leases.extend(k, 'b', 10_000), false);
      assert.equal(await leases.release(k, 'b'), false);
      assert.equal(await leases.extend(k, 'a', 10_000), true);
      assert.equal(await leases.release(k, 'a'), true);
      assert.equal(await leases.release(k, 'a'), false, 'already released');
      assert.equal(await leases.extend(k, 'a', 10_000), false, 'gone');
      assert.equal(await leases.acquire(k, 'b', 10_000), true);
      await leases.release(k, 'b');
    });
  });

  it('leases: an expired lease is free for another owner, and its old owner can no longer extend it', async () => {
    await withStorage(open, async ({ leases }) => {
      const k = key('expiry');
      assert.equal(await leases.acquire(k, 'a', 150), true);
      assert.equal(await leases.acquire(k, 'b', 150), false);
      await sleep(400);
      assert.equal(await leases.acquire(k, 'b', 10_000), true);
      assert.equal(await leases.extend(k, 'a', 10_000), false);
      assert.equal(await leases.release(k, 'a'), false);
      assert.equal(await leases.release(k, 'b'), true);
    });
  });

  it('leases: of many owners asking at once, exactly one gets the lease', async () => {
    await withStorage(open, async ({ leases }) => {
      const k = key('race');
      const owners = Array.from({ length: 10 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(owners.map((owner) => leases.acquire(k, owner, 10_000)));
      assert.equal(results.filter(Boolean).length, 1);
      await leases.release(k, owners[results.indexOf(true)]!);
    });
  });

  it('states: taken once, within their time only', async () => {
    await withStorage(open, async ({ states }) => {
      const state = key('state');
      await states.save(state, '{"shop":"cool-shop.myshopify.com"}', 5000);
      assert.equal(await states.take(state, 4999), '{"shop":"cool-shop.myshopify.com"}');
      assert.equal(await states.take(state, 4999), null, 'single use');
      const late = key('state');
      await states.save(late, 'x', 5000);
      assert.equal(await states.take(late, 5000), null, 'expired at its time');
      assert.equal(await states.take(key('state'), 0), null, 'unknown');
      const raced = key('state');
      await states.save(raced, 'once', 5000);
      const takes = await Promise.all(Array.from({ length: 10 }, () => states.take(raced, 1)));
      assert.deepEqual(
        takes.filter((value) => value !== null),
        ['once'],
      );
    });
  });

  it('a closed connection refuses every call with ERR_STORAGE; others go on', async () => {
    const other = await open();
    const app = uniqueApp();
    const closed = await open();
    await closed.close();
    try {
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => closed.get(offlineKey(app, 'x.myshopify.com'))],
        ['put', () => closed.put(offlineRow(app, 'x.myshopify.com'))],
        [
          'swap',
          () =>
            closed.swap(offlineKey(app, 'x.myshopify.com'), { refreshToken: 'x' }, offlineRow(app, 'x.myshopify.com')),
        ],
        ['markInstalled', () => closed.markInstalled(app, 'x.myshopify.com', 1)],
        ['deleteOnline', () => closed.deleteOnline(app, 'x.myshopify.com', '42')],
        ['deleteShop', () => closed.deleteShop(app, 'x.myshopify.com')],
        ['list', () => closed.list({ app, limit: 1 })],
        ['due', () => closed.due('access', { app, before: 1, limit: 1 })],
        ['leases.acquire', () => closed.leases.acquire(key('closed'), 'a', 1000)],
        ['states.take', () => closed.states.take(key('closed'), 1)],
      ];
      for (const [name, call] of calls) await assert.rejects(call(), { code: 'ERR_STORAGE' }, name);
      assert.equal(await other.get(offlineKey(app, 'x.myshopify.com')), null);
    } finally {
      await other.close();
    }
  });

  if (!shared) return;

  it('two connections to one store see each other’s rows, leases and states', async () => {
    const second: TokenStorage = await open();
    try {
      await withStorage(open, async (first, app) => {
        const shop = 'shared-shop.myshopify.com';
        const row = offlineRow(app, shop);
        await first.put(row);
        assert.deepEqual(await second.get(offlineKey(app, shop)), row);
        const results = await Promise.all([
          first.swap(offlineKey(app, shop), { refreshToken: row.refreshToken! }, refreshedRow(row, 2)),
          second.swap(offlineKey(app, shop), { refreshToken: row.refreshToken! }, refreshedRow(row, 3)),
        ]);
        assert.equal(results.filter(Boolean).length, 1, 'one compare-and-set wins across connections');
        const k = key('shared');
        assert.equal(await first.leases.acquire(k, 'a', 10_000), true);
        assert.equal(await second.leases.acquire(k, 'b', 10_000), false);
        assert.equal(await second.leases.release(k, 'a'), true, 'the owner, not the connection, holds it');
        const state = key('state');
        await first.states.save(state, 'v', 5000);
        assert.equal(await second.states.take(state, 1), 'v');
        assert.equal(await first.states.take(state, 1), null);
        await second.deleteShop(app, shop);
        assert.equal(await first.get(offlineKey(app, shop)), null);
      });
    } finally {
      await second.close();
    }
  });
}
