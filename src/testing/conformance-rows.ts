/**
 * The battery's row rules: round trips, what a write keeps, compare-and-set, deletes, bytewise
 * paged listing.
 */

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { batchReads } from '../storage/read-batch.ts';
import type { TokenRow } from '../storage/types.ts';
import {
  offlineKey,
  offlineRow,
  onlineKey,
  onlineRow,
  refreshedRow,
  type StorageFactory,
  sealed,
  uniqueApp,
  withStorage,
} from './fixtures.ts';

const SHOP = 'cool-shop.myshopify.com';

export function rowRules(open: StorageFactory): void {
  it('round-trips every field of offline and online rows; get of a missing key is null', async () => {
    await withStorage(open, async (storage, app) => {
      const row = offlineRow(app, SHOP, {
        previousRefreshToken: sealed('refresh-0'),
        status: 'needs_reauth',
        refreshFailures: 3,
        lastRefreshError: 'invalid_grant',
        installedAt: 1500,
        renewAt: 8000,
        migrationStartedAt: 7,
        grant: 'client_credentials',
        issuedAt: 900,
        authorizedAt: 950,
        createdAt: 2 ** 41,
        updatedAt: 2 ** 42 + 1,
      });
      await storage.put(row);
      await storage.put(onlineRow(app, SHOP));
      assert.deepEqual(await storage.get(offlineKey(app, SHOP)), row);
      assert.deepEqual(await storage.get(onlineKey(app, SHOP)), onlineRow(app, SHOP));
      assert.equal(await storage.get(onlineKey(app, SHOP, '43')), null);
      assert.equal(await storage.get(offlineKey(uniqueApp(), SHOP)), null, 'another app');
    });
  });

  it('a write replaces every field but keeps the stored createdAt and installedAt', async () => {
    await withStorage(open, async (storage, app) => {
      await storage.put(offlineRow(app, SHOP, { createdAt: 1000, installedAt: 1500 }));
      const next = offlineRow(app, SHOP, {
        accessToken: sealed('access-2'),
        scopes: 'write_products',
        createdAt: 9,
        installedAt: null,
        updatedAt: 2000,
        migrationStartedAt: 5,
      });
      await storage.put(next);
      assert.deepEqual(await storage.get(offlineKey(app, SHOP)), { ...next, createdAt: 1000, installedAt: 1500 });
    });
  });

  it('swap writes when the stored refresh token is the one expected, keeping createdAt and installedAt', async () => {
    await withStorage(open, async (storage, app) => {
      const first = offlineRow(app, SHOP, { installedAt: 1500 });
      await storage.put(first);
      const next = refreshedRow(first, 2);
      const written = await storage.swap(
        offlineKey(app, SHOP),
        { refreshToken: first.refreshToken! },
        { ...next, createdAt: 9, installedAt: null },
      );
      assert.equal(written, true);
      assert.deepEqual(await storage.get(offlineKey(app, SHOP)), next);
    });
  });

  it('swap refuses a stale writer and changes nothing; it never matches a missing row or another key', async () => {
    await withStorage(open, async (storage, app) => {
      const first = offlineRow(app, SHOP);
      const key = offlineKey(app, SHOP);
      assert.equal(await storage.swap(key, { refreshToken: first.refreshToken! }, first), false, 'no row yet');
      assert.equal(await storage.get(key), null);
      await storage.put(first);
      const second = refreshedRow(first, 2);
      assert.equal(await storage.swap(key, { refreshToken: first.refreshToken! }, second), true);
      assert.equal(await storage.swap(key, { refreshToken: first.refreshToken! }, refreshedRow(first, 3)), false);
      await storage.put(onlineRow(app, SHOP, { refreshToken: sealed('refresh-2') }));
      const other = offlineKey(uniqueApp(), SHOP);
      assert.equal(await storage.swap(other, { refreshToken: sealed('refresh-2') }, { ...second, ...other }), false);
      assert.deepEqual(await storage.get(key), second);
    });
  });

  it('swap on the access token: for rows without a refresh token (migration intents, renewals)', async () => {
    await withStorage(open, async (storage, app) => {
      const key = offlineKey(app, SHOP);
      const legacy = offlineRow(app, SHOP, { refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null });
      await storage.put(legacy);
      const intent = { ...legacy, migrationStartedAt: 2000, updatedAt: 2000 };
      assert.equal(await storage.swap(key, { accessToken: legacy.accessToken }, intent), true);
      assert.deepEqual(await storage.get(key), intent);
      const migrated = { ...refreshedRow(legacy, 2), migrationStartedAt: null };
      assert.equal(await storage.swap(key, { accessToken: legacy.accessToken }, migrated), true);
      assert.equal(await storage.swap(key, { accessToken: legacy.accessToken }, intent), false, 'stale');
      assert.deepEqual(await storage.get(key), migrated);
      const user = onlineRow(app, SHOP);
      await storage.put(user);
      assert.equal(await storage.swap(key, { accessToken: user.accessToken }, intent), false, 'another key’s value');
    });
  });

  it('of many writers holding the same version, exactly one wins', async () => {
    await withStorage(open, async (storage, app) => {
      const first = offlineRow(app, SHOP);
      await storage.put(first);
      const key = offlineKey(app, SHOP);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          storage.swap(key, { refreshToken: first.refreshToken! }, refreshedRow(first, i + 2)),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await storage.get(key), refreshedRow(first, results.indexOf(true) + 2));
    });
  });

  it('compares keys and sealed values byte for byte: no padding, case or accent folding', async () => {
    await withStorage(open, async (storage, app) => {
      // Keys that a PAD SPACE or case-insensitive collation would confuse are distinct rows, in bytewise order.
      const users = ['4', '4 ', '4\t', 'A', 'a', 'é', 'e'];
      for (const userId of users)
        await storage.put(onlineRow(app, SHOP, { userId, accessToken: sealed(`u-${userId}`) }));
      const listed = await storage.list({ app, limit: 100 });
      assert.deepEqual(
        listed.map((row) => row.userId),
        ['4', '4\t', '4 ', 'A', 'a', 'e', 'é'],
      );
      for (const userId of users) {
        assert.equal((await storage.get(onlineKey(app, SHOP, userId)))?.accessToken, sealed(`u-${userId}`), userId);
      }
      // A compare-and-set on a value that differs only in case or a trailing space does not match.
      const row = offlineRow(app, SHOP, { refreshToken: 'v1.k1.Refresh' });
      await storage.put(row);
      const key = offlineKey(app, SHOP);
      assert.equal(await storage.swap(key, { refreshToken: 'v1.k1.refresh' }, refreshedRow(row, 2)), false);
      assert.equal(await storage.swap(key, { refreshToken: 'v1.k1.Refresh ' }, refreshedRow(row, 2)), false);
      // A compare-and-set that writes identical values still reports that it wrote.
      assert.equal(await storage.swap(key, { refreshToken: 'v1.k1.Refresh' }, row), true);
      assert.deepEqual(await storage.get(key), row);
    });
  });

  it('refuses a row whose kind and user disagree (offline rows have no user; online rows have one)', async () => {
    await withStorage(open, async (storage, app) => {
      await assert.rejects(storage.put(offlineRow(app, SHOP, { userId: '42' })));
      await assert.rejects(storage.put(onlineRow(app, SHOP, { userId: '' })));
      assert.deepEqual(await storage.list({ app, limit: 10 }), []);
    });
  });

  it('markInstalled sets installedAt once and touches nothing else', async () => {
    await withStorage(open, async (storage, app) => {
      assert.equal(await storage.markInstalled(app, SHOP, 2000), false, 'no row');
      const row = offlineRow(app, SHOP);
      await storage.put(row);
      await storage.put(onlineRow(app, SHOP));
      assert.equal(await storage.markInstalled(app, SHOP, 2000), true);
      assert.equal(await storage.markInstalled(app, SHOP, 3000), true);
      assert.deepEqual(await storage.get(offlineKey(app, SHOP)), { ...row, installedAt: 2000 });
      assert.deepEqual(await storage.get(onlineKey(app, SHOP)), onlineRow(app, SHOP));
    });
  });

  it('deleteOnline removes one user’s row; deleteShop every row of the shop, of that app only', async () => {
    await withStorage(open, async (storage, app) => {
      const other = 'other-shop.myshopify.com';
      await storage.put(offlineRow(app, SHOP));
      await storage.put(onlineRow(app, SHOP));
      await storage.put(onlineRow(app, SHOP, { userId: '43' }));
      await storage.put(offlineRow(app, other));
      assert.equal(await storage.deleteOnline(app, SHOP, '42'), true);
      assert.equal(await storage.deleteOnline(app, SHOP, '42'), false, 'already gone');
      assert.equal(await storage.deleteOnline(app, other, '43'), false, 'another shop');
      assert.equal(await storage.deleteOnline(app, SHOP, ''), false, 'never the offline row');
      const keys = (rows: TokenRow[]) => rows.map((row) => `${row.shop} ${row.kind} ${row.userId}`);
      assert.deepEqual(keys(await storage.list({ app, limit: 100 })), [
        `${SHOP} offline `,
        `${SHOP} online 43`,
        `${other} offline `,
      ]);
      assert.equal(await storage.deleteShop(app, SHOP), 2);
      assert.equal(await storage.deleteShop(app, SHOP), 0);
      assert.deepEqual(keys(await storage.list({ app, limit: 100 })), [`${other} offline `]);
    });
  });

  it('reads of many keys at once (getMany, when the store has it) find what get finds, and nothing else', async () => {
    await withStorage(open, async (storage, app) => {
      const other = `${app}-other`;
      const shops = Array.from({ length: 60 }, (_, i) => `shop-${String(i).padStart(2, '0')}.myshopify.com`);
      try {
        for (const shop of shops.slice(0, 40)) await storage.put(offlineRow(app, shop, { accessToken: sealed(shop) }));
        await storage.put(onlineRow(app, shops[0]!, { userId: 'é 4', accessToken: sealed('online é 4') }));
        await storage.put(offlineRow(other, shops[0]!, { accessToken: sealed('other app') }));
        const wanted = [
          ...shops.map((shop) => offlineKey(app, shop)), // 40 stored, 20 missing
          onlineKey(app, shops[0]!, 'é 4'),
          onlineKey(app, shops[0]!, 'é'), // missing: a prefix of a stored user
          onlineKey(app, shops[1]!, 'é 4'), // missing: that user, another shop
          offlineKey(other, shops[0]!),
          offlineKey(other, shops[1]!), // missing: another app
          offlineKey(app, shops[2]!), // the same key twice
          offlineKey(app, shops[2]!.toUpperCase()), // missing: keys compare byte for byte
        ];
        const expected = (await Promise.all(wanted.map((key) => storage.get(key)))).filter((row) => row !== null);
        const byKey = (rows: TokenRow[]) =>
          rows
            .map((row) => JSON.stringify(row))
            .sort()
            .filter((row, i, all) => all.indexOf(row) === i);
        assert.equal(new Set(expected.map((row) => JSON.stringify(row))).size, 42, 'the battery stored 42 of them');
        // The vault's reads, asked for in one turn (one getMany where the store has it).
        const read = batchReads(storage);
        const batched = await Promise.all(wanted.map((key) => read(key)));
        assert.deepEqual(
          batched.map((row) => row && JSON.stringify(row)),
          (await Promise.all(wanted.map((key) => storage.get(key)))).map((row) => row && JSON.stringify(row)),
        );
        if (typeof storage.getMany !== 'function') return;
        assert.deepEqual(byKey(await storage.getMany(wanted)), byKey(expected));
        assert.deepEqual(await storage.getMany([offlineKey(app, shops[59]!)]), [], 'a missing key is absent');
        assert.deepEqual(await storage.getMany([]), [], 'no keys, no rows');
        const one = await storage.getMany([offlineKey(app, shops[3]!)]);
        assert.deepEqual(one, [await storage.get(offlineKey(app, shops[3]!))]);
      } finally {
        await storage.deleteShop(other, shops[0]!);
      }
    });
  });

  it('lists in bytewise (app, shop, kind, userId) order, in pages that resume strictly after a key', async () => {
    await withStorage(open, async (storage, app) => {
      // Bytewise: 'B' < 'a' < 'z' < 'ü'; '-' < '.' < '0'; '42' < '5'. A locale order would differ.
      const apps = [`${app}-B`, `${app}-a`, `${app}-z`, `${app}-ü`];
      const shops = ['a.myshopify.com', 'a-b.myshopify.com', 'a0.myshopify.com'];
      const rows: TokenRow[] = [];
      for (const name of [...apps].reverse()) {
        for (const shop of shops) {
          rows.push(onlineRow(name, shop, { userId: '5' }), onlineRow(name, shop, { userId: '42' }));
          rows.push(offlineRow(name, shop));
        }
      }
      for (const row of rows) await storage.put(row);
      const want: string[] = [];
      for (const name of apps) {
        for (const shop of ['a-b.myshopify.com', 'a.myshopify.com', 'a0.myshopify.com']) {
          want.push(`${name} ${shop} offline `, `${name} ${shop} online 42`, `${name} ${shop} online 5`);
        }
      }
      const key = (row: TokenRow) => `${row.app} ${row.shop} ${row.kind} ${row.userId}`;
      // Every app id here starts with `app`, so a scan from just after `app` meets them first.
      const seen: string[] = [];
      let after: TokenRow | { app: string; shop: string; kind: 'offline'; userId: string } = {
        app,
        shop: '',
        kind: 'offline',
        userId: '',
      };
      for (let page = 0; page < 20 && seen.length < want.length; page++) {
        const rowsPage = await storage.list({ limit: 5, after });
        seen.push(...rowsPage.filter((row) => apps.includes(row.app)).map(key));
        const last = rowsPage.at(-1);
        if (!last) break;
        after = last;
      }
      assert.deepEqual(seen, want);
      const one = await storage.list({ app: apps[1]!, limit: 100 });
      assert.deepEqual(one.map(key), want.slice(9, 18));
      for (const name of apps) for (const shop of shops) await storage.deleteShop(name, shop);
    });
  });

  it('refuses a page size outside 1 to 10,000', async () => {
    await withStorage(open, async (storage, app) => {
      for (const limit of [0, -1, 1.5, 10_001]) {
        await assert.rejects(storage.list({ app, limit }), TypeError);
        await assert.rejects(storage.due('access', { app, before: 1, limit }), TypeError);
      }
    });
  });
}
