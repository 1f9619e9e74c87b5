/**
 * One list of storage behaviours, run against every backend: the vault relies on each of them
 * (compare-and-set on refresh, targeted install marks, due rows for the keeper).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { credentialsRenewalAt } from '../../src/storage/renewal.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { TokenRow, TokenStorage } from '../../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SHOP = 'cool-shop.myshopify.com';
let files = 0;
const backends: [string, () => TokenStorage][] = [
  ['memory', createMemoryStorage],
  ['sqlite :memory:', () => openSqliteStorage(':memory:')],
  ['sqlite file', () => openSqliteStorage(join(dir, `conformance-${files++}.db`))],
];

function offline(overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    shop: SHOP,
    kind: 'offline',
    userId: '',
    accessToken: 'v1.k1.sealed-access-1',
    refreshToken: 'v1.k1.sealed-refresh-1',
    previousRefreshToken: null,
    user: null,
    scopes: 'read_products',
    associatedUserScopes: null,
    expiresAt: 10_000,
    refreshTokenExpiresAt: 1_000_000,
    createdAt: 1000,
    updatedAt: 1000,
    installedAt: null,
    migrationStartedAt: null,
    grant: 'authorization_code',
    issuedAt: null,
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
    ...overrides,
  };
}

function online(overrides: Partial<TokenRow> = {}): TokenRow {
  return offline({
    kind: 'online',
    userId: '42',
    refreshToken: null,
    user: 'v1.k1.sealed-user',
    associatedUserScopes: 'read_products',
    refreshTokenExpiresAt: null,
    ...overrides,
  });
}

/** The pair a refresh writes: new values, the used token kept as previous. */
function refreshed(from: TokenRow, n: number): TokenRow {
  return {
    ...from,
    accessToken: `v1.k1.sealed-access-${n}`,
    refreshToken: `v1.k1.sealed-refresh-${n}`,
    previousRefreshToken: from.refreshToken,
    expiresAt: 10_000 * n,
    refreshTokenExpiresAt: 1_000_000 * n,
    updatedAt: 1000 * n,
    refreshFailures: 0,
    lastRefreshError: null,
  };
}

for (const [name, open] of backends) {
  describe(`TokenStorage conformance: ${name}`, () => {
    it('round-trips every field, including the refresh state', async () => {
      const storage = open();
      const row = offline({
        previousRefreshToken: 'v1.k1.sealed-refresh-0',
        status: 'needs_reauth',
        refreshFailures: 3,
        lastRefreshError: 'invalid_grant',
        installedAt: 1500,
      });
      await storage.put(row);
      await storage.put(online());
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), row);
      assert.deepEqual(await storage.get(SHOP, 'online', '42'), online());
      await storage.close();
    });

    it('swapOffline writes the new pair when the stored refresh token is the one expected', async () => {
      const storage = open();
      const first = offline({ installedAt: 1500 });
      await storage.put(first);
      const next = refreshed(first, 2);
      // A stale snapshot's createdAt and installedAt must not leak into the row.
      assert.equal(
        await storage.swapOffline(
          SHOP,
          { refreshToken: first.refreshToken! },
          { ...next, createdAt: 9, installedAt: null },
        ),
        true,
      );
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), next);
      await storage.close();
    });

    it('swapOffline refuses a stale writer and changes nothing', async () => {
      const storage = open();
      const first = offline();
      await storage.put(first);
      const second = refreshed(first, 2);
      assert.equal(await storage.swapOffline(SHOP, { refreshToken: first.refreshToken! }, second), true);
      // A writer that read the first version tries to store its own pair.
      const stale = refreshed(first, 3);
      assert.equal(await storage.swapOffline(SHOP, { refreshToken: first.refreshToken! }, stale), false);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), second);
      await storage.close();
    });

    it('swapOffline: of two writers holding the same version, exactly one wins', async () => {
      const storage = open();
      const first = offline();
      await storage.put(first);
      const expected = { refreshToken: first.refreshToken! };
      const results = await Promise.all([
        storage.swapOffline(SHOP, expected, refreshed(first, 2)),
        storage.swapOffline(SHOP, expected, refreshed(first, 3)),
      ]);
      assert.deepEqual(results.toSorted(), [false, true]);
      const winner = results[0] ? 2 : 3;
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), refreshed(first, winner));
      await storage.close();
    });

    it('round-trips the grant and issue time, also through a compare-and-set', async () => {
      const storage = open();
      const credentials = offline({
        refreshToken: null,
        refreshTokenExpiresAt: null,
        grant: 'client_credentials',
        issuedAt: 900,
      });
      await storage.put(credentials);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), credentials);
      const renewed = { ...credentials, accessToken: 'v1.k1.sealed-access-9', issuedAt: 2000 };
      assert.equal(await storage.swapOfflineAccess(SHOP, { accessToken: credentials.accessToken }, renewed), true);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), renewed);
      await storage.close();
    });

    it('round-trips the migration intent', async () => {
      const storage = open();
      const withIntent = offline({
        refreshToken: null,
        expiresAt: null,
        refreshTokenExpiresAt: null,
        migrationStartedAt: 7,
      });
      await storage.put(withIntent);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), withIntent);
      await storage.put(offline());
      assert.equal((await storage.get(SHOP, 'offline', ''))?.migrationStartedAt, null);
      await storage.close();
    });

    it('swapOfflineAccess writes when the stored access token is the one expected, else changes nothing', async () => {
      const storage = open();
      const legacy = offline({ refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null, installedAt: 1500 });
      await storage.put(legacy);
      const intent = { ...legacy, migrationStartedAt: 2000, updatedAt: 2000 };
      assert.equal(await storage.swapOfflineAccess(SHOP, { accessToken: legacy.accessToken }, intent), true);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), intent);
      const migrated = { ...refreshed(legacy, 2), migrationStartedAt: null };
      // A stale snapshot's createdAt and installedAt must not leak into the row.
      assert.equal(
        await storage.swapOfflineAccess(
          SHOP,
          { accessToken: legacy.accessToken },
          { ...migrated, createdAt: 9, installedAt: null },
        ),
        true,
      );
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), migrated);
      // A second writer holding the old version loses.
      assert.equal(await storage.swapOfflineAccess(SHOP, { accessToken: legacy.accessToken }, intent), false);
      assert.equal(await storage.swapOfflineAccess('other.myshopify.com', { accessToken: 'x' }, intent), false);
      await storage.put(online());
      assert.equal(await storage.swapOfflineAccess(SHOP, { accessToken: online().accessToken }, intent), false);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), migrated);
      assert.deepEqual(await storage.get(SHOP, 'online', '42'), online());
      await storage.close();
    });

    it('swapOffline never matches a missing row, a non-expiring row or an online row', async () => {
      const storage = open();
      const next = refreshed(offline(), 2);
      assert.equal(await storage.swapOffline(SHOP, { refreshToken: 'v1.k1.sealed-refresh-1' }, next), false);
      assert.equal(await storage.get(SHOP, 'offline', ''), null);
      const plain = offline({ refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null });
      await storage.put(plain);
      await storage.put(online({ refreshToken: 'v1.k1.sealed-refresh-1' }));
      assert.equal(await storage.swapOffline(SHOP, { refreshToken: 'v1.k1.sealed-refresh-1' }, next), false);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), plain);
      assert.deepEqual(await storage.get(SHOP, 'online', '42'), online({ refreshToken: 'v1.k1.sealed-refresh-1' }));
      await storage.close();
    });

    it("deleteOnline removes that user's online row only; false when there is none", async () => {
      const storage = open();
      await storage.put(offline());
      await storage.put(online());
      await storage.put(online({ userId: '43' }));
      assert.equal(await storage.deleteOnline(SHOP, '42'), true);
      assert.equal(await storage.get(SHOP, 'online', '42'), null);
      assert.equal(await storage.deleteOnline(SHOP, '42'), false, 'already gone');
      assert.equal(await storage.deleteOnline('other-shop.myshopify.com', '43'), false, 'another shop');
      assert.equal(await storage.deleteOnline(SHOP, ''), false, 'never the offline row');
      assert.deepEqual(
        (await storage.list()).map((row) => [row.kind, row.userId]),
        [
          ['offline', ''],
          ['online', '43'],
        ],
      );
      await storage.close();
    });

    it('markInstalled sets installedAt once and touches nothing else', async () => {
      const storage = open();
      assert.equal(await storage.markInstalled(SHOP, 2000), false);
      const row = offline();
      await storage.put(row);
      assert.equal(await storage.markInstalled(SHOP, 2000), true);
      assert.equal(await storage.markInstalled(SHOP, 3000), true);
      assert.deepEqual(await storage.get(SHOP, 'offline', ''), { ...row, installedAt: 2000 });
      await storage.close();
    });

    it('dueOffline lists active expiring offline rows due by `before`, soonest first, at most `limit`', async () => {
      const storage = open();
      const shop = (name: string) => `${name}.myshopify.com`;
      await storage.put(offline({ shop: shop('late'), expiresAt: 5000 }));
      await storage.put(offline({ shop: shop('early'), expiresAt: 1000 }));
      await storage.put(offline({ shop: shop('middle'), expiresAt: 3000 }));
      await storage.put(offline({ shop: shop('not-due'), expiresAt: 9000 }));
      await storage.put(offline({ shop: shop('broken'), expiresAt: 500, status: 'needs_reauth' }));
      await storage.put(
        offline({ shop: shop('plain'), refreshToken: null, expiresAt: null, refreshTokenExpiresAt: null }),
      );
      await storage.put(online({ shop: shop('user'), expiresAt: 100 }));
      const names = (rows: TokenRow[]) => rows.map((row) => row.shop.split('.')[0]);
      assert.deepEqual(names(await storage.dueOffline(5000, 10)), ['early', 'middle', 'late']);
      assert.deepEqual(names(await storage.dueOffline(5000, 2)), ['early', 'middle']);
      assert.deepEqual(names(await storage.dueOffline(999, 10)), []);
      assert.deepEqual(names(await storage.dueOffline(9000, 0)), []);
      const [row] = await storage.dueOffline(1000, 1);
      assert.deepEqual(row, offline({ shop: shop('early'), expiresAt: 1000 }));
      await storage.close();
    });

    it('dueOffline by refreshTokenExpiresAt lists rows whose refresh token lapses by `before`', async () => {
      const storage = open();
      const shop = (name: string) => `${name}.myshopify.com`;
      // Access tokens long expired (idle shops); only the refresh-token expiry decides.
      await storage.put(offline({ shop: shop('lapses-late'), expiresAt: 1, refreshTokenExpiresAt: 7000 }));
      await storage.put(offline({ shop: shop('lapses-soon'), expiresAt: 2, refreshTokenExpiresAt: 6000 }));
      await storage.put(offline({ shop: shop('safe'), expiresAt: 3, refreshTokenExpiresAt: 9000 }));
      await storage.put(
        offline({ shop: shop('broken'), expiresAt: 1, refreshTokenExpiresAt: 100, status: 'needs_reauth' }),
      );
      await storage.put(online({ shop: shop('user'), refreshTokenExpiresAt: 100 }));
      const names = (rows: TokenRow[]) => rows.map((row) => row.shop.split('.')[0]);
      const byRefresh = { by: 'refreshTokenExpiresAt' } as const;
      assert.deepEqual(names(await storage.dueOffline(7000, 10, byRefresh)), ['lapses-soon', 'lapses-late']);
      assert.deepEqual(names(await storage.dueOffline(6999, 10, byRefresh)), ['lapses-soon']);
      assert.deepEqual(names(await storage.dueOffline(5999, 10, byRefresh)), []);
      await storage.close();
    });

    it('dueOffline pages resume strictly after a (time, shop) cursor, ties ordered by shop', async () => {
      const storage = open();
      const shops = ['d', 'b', 'a', 'c', 'e'].map((name) => `${name}.myshopify.com`);
      // a, b, c expire together; d, e later.
      const expiries: Record<string, number> = { a: 2000, b: 2000, c: 2000, d: 3000, e: 4000 };
      for (const shop of shops) {
        const at = expiries[shop[0]!]!;
        await storage.put(offline({ shop, expiresAt: at, refreshTokenExpiresAt: at * 10 }));
      }
      for (const [by, scale] of [
        ['expiresAt', 1],
        ['refreshTokenExpiresAt', 10],
      ] as const) {
        const seen: string[] = [];
        let after: { at: number; shop: string } | undefined;
        for (;;) {
          const page = await storage.dueOffline(3000 * scale, 2, { by, after });
          seen.push(...page.map((row) => row.shop[0]!));
          const last = page.at(-1);
          if (page.length < 2 || !last) break;
          after = { at: (by === 'expiresAt' ? last.expiresAt : last.refreshTokenExpiresAt)!, shop: last.shop };
        }
        assert.deepEqual(seen, ['a', 'b', 'c', 'd'], by);
        // A cursor inside a tie skips only the shops before it.
        const rest = await storage.dueOffline(5000 * scale, 10, {
          by,
          after: { at: 2000 * scale, shop: 'a.myshopify.com' },
        });
        assert.deepEqual(
          rest.map((row) => row.shop[0]),
          ['b', 'c', 'd', 'e'],
          by,
        );
      }
      await storage.close();
    });

    it('dueCredentials lists active client-credentials rows whose renewal is due by `before`', async () => {
      const storage = open();
      const shop = (name: string) => `${name}.myshopify.com`;
      const credentials = (name: string, overrides: Partial<TokenRow>) =>
        offline({
          shop: shop(name),
          refreshToken: null,
          refreshTokenExpiresAt: null,
          grant: 'client_credentials',
          ...overrides,
        });
      // Renewal at 80 % of the lifetime (80_000_000) comes before 5 minutes before expiry.
      await storage.put(credentials('day', { issuedAt: 0, expiresAt: 100_000_000 }));
      // A 1000 s lifetime: 5 minutes before expiry (700_000) comes before 80 % (800_000).
      await storage.put(credentials('short', { issuedAt: 0, expiresAt: 1_000_000 }));
      // No issue time: the lifetime counts from updatedAt (1000), so the renewal is at 701_000.
      await storage.put(credentials('legacy', { issuedAt: null, updatedAt: 1000, expiresAt: 1_001_000 }));
      await storage.put(credentials('broken', { issuedAt: 0, expiresAt: 1_000_000, status: 'needs_reauth' }));
      await storage.put(credentials('no-expiry', { issuedAt: 0, expiresAt: null }));
      await storage.put(offline({ shop: shop('code'), refreshToken: null, issuedAt: 0, expiresAt: 1_000_000 }));
      await storage.put(offline({ shop: shop('expiring'), issuedAt: 0, expiresAt: 1_000_000 }));
      await storage.put(online({ shop: shop('user'), grant: 'client_credentials', issuedAt: 0, expiresAt: 1_000_000 }));
      const names = (rows: TokenRow[]) => rows.map((row) => row.shop.split('.')[0]);
      assert.deepEqual(names(await storage.dueCredentials(1e12, 10)), ['short', 'legacy', 'day']);
      assert.deepEqual(names(await storage.dueCredentials(80_000_000, 10)), ['short', 'legacy', 'day']);
      assert.deepEqual(names(await storage.dueCredentials(79_999_999, 10)), ['short', 'legacy']);
      assert.deepEqual(names(await storage.dueCredentials(700_999, 10)), ['short']);
      assert.deepEqual(names(await storage.dueCredentials(699_999, 10)), []);
      assert.deepEqual(names(await storage.dueCredentials(1e12, 2)), ['short', 'legacy']);
      assert.deepEqual(names(await storage.dueCredentials(1e12, 0)), []);
      const [row] = await storage.dueCredentials(700_000, 1);
      assert.deepEqual(row, credentials('short', { issuedAt: 0, expiresAt: 1_000_000 }));
      await storage.close();
    });

    it('dueCredentials pages resume strictly after a (renewal time, shop) cursor, fractions included', async () => {
      const storage = open();
      // a, b, c renew together; d at a fractional time (80 % of an odd lifetime); e later.
      const lifetimes: Record<string, number> = {
        a: 2_000_000,
        b: 2_000_000,
        c: 2_000_000,
        d: 2_000_003,
        e: 4_000_000,
      };
      for (const name of ['d', 'b', 'a', 'e', 'c']) {
        await storage.put(
          offline({
            shop: `${name}.myshopify.com`,
            refreshToken: null,
            refreshTokenExpiresAt: null,
            grant: 'client_credentials',
            issuedAt: 0,
            expiresAt: lifetimes[name]!,
          }),
        );
      }
      const seen: string[] = [];
      let after: { at: number; shop: string } | undefined;
      for (;;) {
        const page = await storage.dueCredentials(2_000_000, 2, { after });
        seen.push(...page.map((row) => row.shop[0]!));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        after = { at: credentialsRenewalAt(last)!, shop: last.shop };
      }
      assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
      // A cursor inside a tie skips only the shops before it; one at a fractional time skips that row.
      const rest = await storage.dueCredentials(1e12, 10, { after: { at: 1_600_000, shop: 'a.myshopify.com' } });
      assert.deepEqual(
        rest.map((row) => row.shop[0]),
        ['b', 'c', 'd', 'e'],
      );
      const [d] = await storage.dueCredentials(1e12, 1, { after: { at: 1_600_000, shop: 'c.myshopify.com' } });
      assert.ok(d);
      assert.notEqual(credentialsRenewalAt(d), Math.trunc(credentialsRenewalAt(d)!));
      const afterD = await storage.dueCredentials(1e12, 10, { after: { at: credentialsRenewalAt(d)!, shop: d.shop } });
      assert.deepEqual(
        afterD.map((row) => row.shop[0]),
        ['e'],
      );
      await storage.close();
    });

    it('refuses every call once closed', async () => {
      const storage = open();
      await storage.close();
      await assert.rejects(storage.swapOffline(SHOP, { refreshToken: 'x' }, offline()), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.markInstalled(SHOP, 1), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.deleteOnline(SHOP, '42'), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.dueOffline(1, 1), { code: 'ERR_STORAGE' });
      await assert.rejects(storage.dueCredentials(1, 1), { code: 'ERR_STORAGE' });
    });
  });
}
