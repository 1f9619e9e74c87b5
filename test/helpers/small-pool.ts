/**
 * What a network store must still do behind a pool of one connection, under many concurrent calls
 * of every kind (swaps, leases, reads, listings, due pages, OAuth states): each call is answered,
 * one swap per shop and one lease holder win. Shared by the PostgreSQL and MySQL storage tests.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, sealed } from '../../src/testing/fixtures.ts';

export async function checkOneConnectionPool(storage: TokenStorage): Promise<void> {
  const app = `pool-${randomUUID()}`;
  const shops = Array.from({ length: 10 }, (_, i) => `shop-${i}.myshopify.com`);
  try {
    await Promise.all(shops.map((shop) => storage.put(offlineRow(app, shop))));
    const swaps = await Promise.all(
      shops.flatMap((shop) =>
        Array.from({ length: 5 }, (_, n) =>
          storage.swap(
            offlineKey(app, shop),
            { refreshToken: sealed('refresh-1') },
            offlineRow(app, shop, { refreshToken: sealed(`refresh-${n + 2}`) }),
          ),
        ),
      ),
    );
    const lease = `pool-${app}`;
    const [leases, reads, pages, due] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, (_, i) => storage.leases.acquire(lease, `owner-${i}`, 10_000))),
      Promise.all(shops.map((shop) => storage.get(offlineKey(app, shop)))),
      Promise.all(Array.from({ length: 5 }, () => storage.list({ app, limit: 100 }))),
      Promise.all(Array.from({ length: 5 }, () => storage.due('access', { app, before: 1e12, limit: 100 }))),
      Promise.all(shops.map((shop) => storage.states.save(`${app}-${shop}`, 'v', 1e13))),
    ]);
    assert.equal(swaps.filter(Boolean).length, shops.length, 'one swap per shop wins');
    assert.equal(leases.filter(Boolean).length, 1);
    assert.ok(reads.every((row) => row !== null));
    assert.ok(pages.every((page) => page.length === shops.length));
    assert.ok(due.every((page) => page.length === shops.length));
    const takes = await Promise.all(shops.map((shop) => storage.states.take(`${app}-${shop}`, 0)));
    assert.ok(takes.every((value) => value === 'v'));
    await storage.leases.release(lease, `owner-${leases.indexOf(true)}`);
  } finally {
    for (const shop of shops) await storage.deleteShop(app, shop);
    await storage.close();
  }
}
