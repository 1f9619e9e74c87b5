/**
 * The battery's due-index rules: the keeper's three indexes over an app's active offline rows,
 * soonest first, ties by shop, resumable strictly after a (time, shop) cursor.
 */

import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { DueIndex, TokenRow } from '../storage/types.ts';
import { offlineRow, onlineRow, type StorageFactory, uniqueApp, withStorage } from './fixtures.ts';

const shop = (name: string): string => `${name}.myshopify.com`;
const names = (rows: TokenRow[]): string[] => rows.map((row) => row.shop.split('.')[0]!);

export function dueRules(open: StorageFactory): void {
  it('access: active expiring offline rows by expiresAt, soonest first, at most limit, this app only', async () => {
    await withStorage(open, async (storage, app) => {
      await storage.put(offlineRow(app, shop('late'), { expiresAt: 5000 }));
      await storage.put(offlineRow(app, shop('early'), { expiresAt: 1000 }));
      await storage.put(offlineRow(app, shop('middle'), { expiresAt: 3000 }));
      await storage.put(offlineRow(app, shop('not-due'), { expiresAt: 9000 }));
      await storage.put(offlineRow(app, shop('broken'), { expiresAt: 500, status: 'needs_reauth' }));
      await storage.put(
        offlineRow(app, shop('plain'), { refreshToken: null, expiresAt: 10, refreshTokenExpiresAt: null }),
      );
      await storage.put(onlineRow(app, shop('user'), { expiresAt: 100 }));
      const other = uniqueApp();
      await storage.put(offlineRow(other, shop('other-app'), { expiresAt: 100 }));
      try {
        assert.deepEqual(names(await storage.due('access', { app, before: 5000, limit: 10 })), [
          'early',
          'middle',
          'late',
        ]);
        assert.deepEqual(names(await storage.due('access', { app, before: 5000, limit: 2 })), ['early', 'middle']);
        assert.deepEqual(names(await storage.due('access', { app, before: 999, limit: 10 })), []);
        const [row] = await storage.due('access', { app, before: 1000, limit: 1 });
        assert.deepEqual(row, offlineRow(app, shop('early'), { expiresAt: 1000 }));
      } finally {
        await storage.deleteShop(other, shop('other-app'));
      }
    });
  });

  it('refresh: active expiring offline rows by refreshTokenExpiresAt', async () => {
    await withStorage(open, async (storage, app) => {
      // Access tokens long expired (idle shops): only the refresh-token expiry decides.
      await storage.put(offlineRow(app, shop('lapses-late'), { expiresAt: 1, refreshTokenExpiresAt: 7000 }));
      await storage.put(offlineRow(app, shop('lapses-soon'), { expiresAt: 2, refreshTokenExpiresAt: 6000 }));
      await storage.put(offlineRow(app, shop('safe'), { expiresAt: 3, refreshTokenExpiresAt: 9000 }));
      await storage.put(offlineRow(app, shop('broken'), { refreshTokenExpiresAt: 100, status: 'needs_reauth' }));
      await storage.put(onlineRow(app, shop('user'), { refreshTokenExpiresAt: 100 }));
      const due = async (before: number) => names(await storage.due('refresh', { app, before, limit: 10 }));
      assert.deepEqual(await due(7000), ['lapses-soon', 'lapses-late']);
      assert.deepEqual(await due(6999), ['lapses-soon']);
      assert.deepEqual(await due(5999), []);
    });
  });

  it('renew: active offline rows with a renewAt, by renewAt (any grant), none without', async () => {
    await withStorage(open, async (storage, app) => {
      const credentials = (name: string, overrides: Partial<TokenRow>) =>
        offlineRow(app, shop(name), {
          refreshToken: null,
          refreshTokenExpiresAt: null,
          grant: 'client_credentials',
          ...overrides,
        });
      await storage.put(credentials('day', { renewAt: 80_000_000 }));
      await storage.put(credentials('short', { renewAt: 700_000 }));
      await storage.put(credentials('legacy', { renewAt: 701_000 }));
      await storage.put(credentials('broken', { renewAt: 1, status: 'needs_reauth' }));
      await storage.put(credentials('unscheduled', { renewAt: null }));
      await storage.put(onlineRow(app, shop('user'), { renewAt: 1 }));
      const due = async (before: number, limit = 10) => names(await storage.due('renew', { app, before, limit }));
      assert.deepEqual(await due(1e12), ['short', 'legacy', 'day']);
      assert.deepEqual(await due(80_000_000), ['short', 'legacy', 'day']);
      assert.deepEqual(await due(79_999_999), ['short', 'legacy']);
      assert.deepEqual(await due(700_000), ['short']);
      assert.deepEqual(await due(699_999), []);
      assert.deepEqual(await due(1e12, 2), ['short', 'legacy']);
    });
  });

  it('pages resume strictly after a (time, shop) cursor, ties ordered by shop bytewise', async () => {
    await withStorage(open, async (storage, app) => {
      // a, b, c (and a-b: '-' sorts before '.') are due together; d, e later.
      const times: Record<string, number> = { a: 2000, 'a-b': 2000, b: 2000, c: 2000, d: 3000, e: 4000 };
      for (const name of ['d', 'b', 'a', 'c', 'e', 'a-b']) {
        const at = times[name]!;
        await storage.put(
          offlineRow(app, shop(name), { expiresAt: at, refreshTokenExpiresAt: at * 10, renewAt: at * 100 }),
        );
      }
      const scales: [DueIndex, number][] = [
        ['access', 1],
        ['refresh', 10],
        ['renew', 100],
      ];
      for (const [index, scale] of scales) {
        const timeOf = (row: TokenRow) =>
          (index === 'access' ? row.expiresAt : index === 'refresh' ? row.refreshTokenExpiresAt : row.renewAt)!;
        const seen: string[] = [];
        let after: { at: number; shop: string } | undefined;
        for (let page = 0; page < 10; page++) {
          const rows = await storage.due(index, { app, before: 3000 * scale, limit: 2, ...(after ? { after } : {}) });
          seen.push(...names(rows));
          const last = rows.at(-1);
          if (rows.length < 2 || !last) break;
          after = { at: timeOf(last), shop: last.shop };
        }
        assert.deepEqual(seen, ['a-b', 'a', 'b', 'c', 'd'], index);
        const rest = await storage.due(index, {
          app,
          before: 5000 * scale,
          limit: 10,
          after: { at: 2000 * scale, shop: shop('a') },
        });
        assert.deepEqual(names(rest), ['b', 'c', 'd', 'e'], index);
      }
    });
  });
}
