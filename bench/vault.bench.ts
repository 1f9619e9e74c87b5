/**
 * Offline-token reads on 10k shops: shoptoken's `vault.token(shop)` / `vault.offline(shop)` (SQLite,
 * AES-256-GCM) vs `@shopify/shopify-app-session-storage-sqlite` `loadSession('offline_' + shop)`.
 * Both stores are seeded with the same 10k offline tokens (half non-expiring, half expiring an hour
 * out, so no refresh happens); every operation reads a random shop. Hot: `vault.token` with its
 * in-process cache of decrypted tokens warm. Cold: the same call on a vault with the cache off, so
 * every call reads SQLite and decrypts.
 */
import '@shopify/shopify-api/adapters/node';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '@shopify/shopify-api';
import { SQLiteSessionStorage } from '@shopify/shopify-app-session-storage-sqlite';
import { openVault, type Vault } from '../src/open-vault.ts';
import { openSqliteStorage } from '../src/storage/sqlite.ts';
import { compare, formatOps } from './measure.ts';

const SHOPS = Number(process.env.BENCH_SHOPS ?? 10_000);
const SCOPES = ['write_products', 'read_orders', 'read_customers'];
const HOUR = 3_600_000;

interface Seed {
  shop: string;
  accessToken: string;
  expiring: boolean;
}

function seeds(count: number): Seed[] {
  return Array.from({ length: count }, (_, i) => ({
    shop: `bench-shop-${i}.myshopify.com`,
    accessToken: `shpat_${randomBytes(16).toString('hex')}`,
    expiring: i % 2 === 1,
  }));
}

async function seedVault(vault: Vault, all: Seed[], now: number): Promise<void> {
  for (const s of all) {
    await vault.saveOffline({
      shop: s.shop,
      accessToken: s.accessToken,
      scopes: SCOPES,
      expiresAt: s.expiring ? new Date(now + HOUR) : null,
      refreshToken: s.expiring ? `shprt_${randomBytes(16).toString('hex')}` : null,
      refreshTokenExpiresAt: s.expiring ? new Date(now + 90 * 24 * HOUR) : null,
    });
  }
}

async function seedPeer(peer: SQLiteSessionStorage, all: Seed[], now: number): Promise<void> {
  for (const s of all) {
    const session = new Session({
      id: `offline_${s.shop}`,
      shop: s.shop,
      state: randomBytes(8).toString('hex'),
      isOnline: false,
      scope: SCOPES.join(','),
      accessToken: s.accessToken,
      ...(s.expiring
        ? {
            expires: new Date(now + HOUR),
            refreshToken: 'shprt_x',
            refreshTokenExpires: new Date(now + 90 * 24 * HOUR),
          }
        : {}),
    });
    await peer.storeSession(session);
  }
}

export async function vaultBench(): Promise<{ lines: string[]; ratio: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'shoptoken-bench-vault-'));
  const all = seeds(SHOPS);
  const bySeed = new Map(all.map((s) => [s.shop, s.accessToken]));
  const now = Date.now();
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  // No `shopify` options: a refresh would throw, so the figures cannot include one.
  const vault = openVault({ storage: await openSqliteStorage(join(dir, 'vault.db')), keys });
  const coldVault = openVault({
    storage: await openSqliteStorage(join(dir, 'vault.db')),
    keys,
    cache: { maxEntries: 0 },
  });
  const peer = new SQLiteSessionStorage(join(dir, 'peer.db'));
  await peer.ready;
  const seedStart = performance.now();
  await seedVault(vault, all, now);
  const vaultSeedMs = performance.now() - seedStart;
  const peerSeedStart = performance.now();
  await seedPeer(peer, all, now);
  const peerSeedMs = performance.now() - peerSeedStart;

  const pick = () => all[Math.floor(Math.random() * all.length)]!.shop;
  // Every read is checked against what was seeded, so a contender cannot win by returning nothing.
  const expect = (shop: string, accessToken: string | undefined) => {
    if (accessToken !== bySeed.get(shop)) throw new Error(`wrong token for ${shop}`);
  };
  const results = await compare([
    {
      name: 'shoptoken vault.token(shop), hot (in-process cache)',
      fn: async () => {
        const shop = pick();
        expect(shop, (await vault.token(shop)).accessToken);
      },
    },
    {
      name: 'shoptoken vault.token(shop), cold (cache off: SQLite read + AES-GCM decrypt)',
      fn: async () => {
        const shop = pick();
        expect(shop, (await coldVault.token(shop)).accessToken);
      },
    },
    {
      name: '@shopify/shopify-app-session-storage-sqlite loadSession (plaintext)',
      fn: async () => {
        const shop = pick();
        expect(shop, (await peer.loadSession(`offline_${shop}`))?.accessToken);
      },
    },
  ]);
  await vault.close();
  await coldVault.close();
  await rm(dir, { recursive: true, force: true });

  const [hot, cold, theirs] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  const ratio = hot.opsPerSecond / theirs.opsPerSecond;
  const coldRatio = cold.opsPerSecond / theirs.opsPerSecond;
  return {
    ratio,
    lines: [
      `### Offline-token reads on ${SHOPS.toLocaleString('en-US')} shops (random shop per call)`,
      '',
      `Seeded: ${SHOPS / 2} non-expiring + ${SHOPS / 2} expiring (1 h out, no refresh) offline tokens in each store` +
        ` (shoptoken SQLite ${(vaultSeedMs / 1000).toFixed(1)} s, peer ${(peerSeedMs / 1000).toFixed(1)} s).` +
        ' Every read is checked against the seeded token.',
      '',
      '| implementation | ops/s |',
      '|---|---|',
      ...results.map((r) => `| ${r.name} | ${formatOps(r.opsPerSecond)} |`),
      '',
      `hot / peer: **${ratio.toFixed(1)}×** (target ≥ 20×${ratio >= 20 ? ', met' : ', NOT met'});` +
        ` cold / peer: **${coldRatio.toFixed(1)}×** (target ≥ 2×${coldRatio >= 2 ? ', met' : ', NOT met'})`,
    ],
  };
}
