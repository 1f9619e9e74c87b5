/**
 * Offline-token reads per store (SQLite, PostgreSQL, MariaDB, Redis) against the matching
 * `@shopify/shopify-app-session-storage-*` adapter's `loadSession('offline_' + shop)` (plaintext)
 * on the same server, same machine, same run. Each side is seeded with the same 5,000 shops
 * (`BENCH_STORE_SHOPS`; a point read costs the same on a larger table that fits in memory) (half
 * non-expiring, half expiring an hour out, so no refresh happens); every call reads a random shop
 * and is checked against the seeded token. Hot: `vault.token` with its in-process cache warm. Cold:
 * a vault with the cache off, so every call is a store read and an AES-256-GCM decrypt (on
 * PostgreSQL and MySQL, the reads asked for in one event-loop turn are one statement). For the
 * network stores, one round trip that reads nothing (`SELECT 1`, `PING`) on the same driver is
 * measured beside them: the floor under any read that goes to the server. On PostgreSQL, a cold
 * vault on a URL with `prepare=true` (named statements, each parsed and planned once per
 * connection: not for PgBouncer before 1.21) is measured too. Measured
 * with 1 caller (latency) and with 16 concurrent callers (throughput, the connection pools of both
 * sides at their defaults of 10), alternating contenders round by round. Before each level every shop
 * is read once through the hot vault, so its cache holds them all (not timed).
 */
import '@shopify/shopify-api/adapters/node';
import { randomBytes } from 'node:crypto';
import { Session } from '@shopify/shopify-api';
import { openVault, type Vault } from '../src/open-vault.ts';
import { compareTimed, forEachLimited, formatMs, formatOps, type TimedResult } from './measure.ts';
import {
  closePeer,
  openOurs,
  openPeer,
  openRoundTrip,
  type PeerStorage,
  peerPackage,
  prepareStore,
  STORE_NAMES,
  type StoreName,
  type StoreTarget,
} from './services.ts';

const SHOPS = Number(process.env.BENCH_STORE_SHOPS ?? 5_000);
const CALLERS = [1, 16];
const SCOPES = ['write_products', 'read_orders', 'read_customers'];
const HOUR = 3_600_000;
const SEED_CONCURRENCY = 16;

interface Seed {
  shop: string;
  accessToken: string;
  expiring: boolean;
}

function seeds(count: number): Seed[] {
  return Array.from({ length: count }, (_, i) => ({
    shop: `bench-store-${i}.myshopify.com`,
    accessToken: `shpat_${randomBytes(16).toString('hex')}`,
    expiring: i % 2 === 1,
  }));
}

async function seedOurs(vault: Vault, all: Seed[], now: number): Promise<void> {
  await forEachLimited(all, SEED_CONCURRENCY, (s) =>
    vault.saveOffline({
      shop: s.shop,
      accessToken: s.accessToken,
      scopes: SCOPES,
      expiresAt: s.expiring ? new Date(now + HOUR) : null,
      refreshToken: s.expiring ? `shprt_${randomBytes(16).toString('hex')}` : null,
      refreshTokenExpiresAt: s.expiring ? new Date(now + 90 * 24 * HOUR) : null,
    }),
  );
}

async function seedPeer(peer: PeerStorage, all: Seed[], now: number): Promise<void> {
  await forEachLimited(all, SEED_CONCURRENCY, (s) =>
    peer.storeSession(
      new Session({
        id: `offline_${s.shop}`,
        shop: s.shop,
        state: randomBytes(8).toString('hex'),
        isOnline: false,
        scope: SCOPES.join(','),
        accessToken: s.accessToken,
        ...(s.expiring
          ? {
              expires: new Date(now + HOUR),
              refreshToken: `shprt_${randomBytes(16).toString('hex')}`,
              refreshTokenExpires: new Date(now + 90 * 24 * HOUR),
            }
          : {}),
      }),
    ),
  );
}

/** What one store's run measured. */
interface StoreRun {
  target: StoreTarget;
  seeding: { oursMs: number; peerMs: number };
  /** By caller count: hot, cold, peer, then the round trip when the store has one, then cold with prepare=true (PostgreSQL). */
  levels: Map<number, TimedResult[]>;
}

async function runStore(target: StoreTarget): Promise<StoreRun> {
  const all = seeds(SHOPS);
  const bySeed = new Map(all.map((s) => [s.shop, s.accessToken]));
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  // No `shopify` options: a refresh would throw, so the figures cannot include one.
  const vault = openVault({ storage: await openOurs(target), keys });
  const coldVault = openVault({ storage: await openOurs(target), keys, cache: { maxEntries: 0 } });
  const preparedVault =
    target.store === 'postgres'
      ? openVault({ storage: await openOurs(target, { prepare: 'true' }), keys, cache: { maxEntries: 0 } })
      : null;
  const peer = await openPeer(target);
  const roundTrip = await openRoundTrip(target);
  try {
    const now = Date.now();
    let started = performance.now();
    await seedOurs(vault, all, now);
    const oursMs = performance.now() - started;
    started = performance.now();
    await seedPeer(peer, all, now);
    const peerMs = performance.now() - started;

    const pick = () => all[Math.floor(Math.random() * all.length)]!.shop;
    // Every read is checked against what was seeded, so a contender cannot win by returning nothing.
    const expect = (shop: string, accessToken: string | undefined) => {
      if (accessToken !== bySeed.get(shop)) throw new Error(`${target.store}: wrong token read for ${shop}`);
    };
    const levels = new Map<number, TimedResult[]>();
    for (const concurrency of CALLERS) {
      // Hot means hot: every shop in the cache (entries live 60 s; a level takes a few seconds).
      await forEachLimited(all, SEED_CONCURRENCY, (s) => vault.token(s.shop));
      const results = await compareTimed(
        [
          {
            name: 'shoptoken vault.token, hot (in-process cache)',
            fn: async () => {
              const shop = pick();
              expect(shop, (await vault.token(shop)).accessToken);
            },
          },
          {
            name: 'shoptoken vault.token, cold (store read + AES-GCM decrypt)',
            fn: async () => {
              const shop = pick();
              expect(shop, (await coldVault.token(shop)).accessToken);
            },
          },
          {
            name: `${peerPackage(target.store)} loadSession (plaintext)`,
            fn: async () => {
              const shop = pick();
              expect(shop, (await peer.loadSession(`offline_${shop}`))?.accessToken);
            },
          },
          ...(roundTrip
            ? [{ name: `floor: one round trip reading nothing (${roundTrip.name})`, fn: roundTrip.send }]
            : []),
          ...(preparedVault
            ? [
                {
                  name: 'shoptoken vault.token, cold, prepare=true (named statements)',
                  fn: async () => {
                    const shop = pick();
                    expect(shop, (await preparedVault.token(shop)).accessToken);
                  },
                },
              ]
            : []),
        ],
        { concurrency },
      );
      levels.set(concurrency, results);
    }
    return { target, seeding: { oursMs, peerMs }, levels };
  } finally {
    await vault.close();
    await coldVault.close();
    await preparedVault?.close();
    await closePeer(peer);
    await roundTrip?.close();
  }
}

const ratio = (a: TimedResult, b: TimedResult) => a.opsPerSecond / b.opsPerSecond;

/**
 * Runs the per-store read benchmark and returns its Markdown section.
 *
 * @example
 * const { lines } = await storesBench();
 */
export async function storesBench(
  stores: readonly StoreName[] = STORE_NAMES,
): Promise<{ lines: string[]; coldRatios: Partial<Record<StoreName, number>> }> {
  const lines = [
    `### Offline-token reads per store on ${SHOPS.toLocaleString('en-US')} shops vs the matching session-storage adapter`,
    '',
    'Random shop per call, each checked against the seeded token; median ops/s of 5 alternating rounds of 300 ms;' +
      ' p50/p99 per call over every round. Hot: `vault.token` served by the in-process cache. Cold: cache off,' +
      ' every call one store read + AES-256-GCM decrypt. Peer: `loadSession(offline_<shop>)`, plaintext. Both' +
      ' sides on the same server, pools at their defaults (10 connections; one connection on Redis).',
    '',
  ];
  const runs: StoreRun[] = [];
  for (const store of stores) {
    const prepared = await prepareStore(store);
    if (typeof prepared === 'string') {
      lines.push(prepared, '');
      continue;
    }
    try {
      runs.push(await runStore(prepared.target));
    } finally {
      await prepared.drop();
    }
  }
  const coldRatios: Partial<Record<StoreName, number>> = {};
  for (const run of runs) {
    const { target, seeding } = run;
    lines.push(
      `#### ${target.label}`,
      '',
      `Seeding (not timed): shoptoken ${(seeding.oursMs / 1000).toFixed(1)} s, peer ${(seeding.peerMs / 1000).toFixed(1)} s` +
        ` (${SEED_CONCURRENCY} writes in flight).`,
      '',
      '| callers | implementation | reads/s | p50 ms | p99 ms | vs peer |',
      '|---|---|---|---|---|---|',
    );
    for (const [callers, results] of run.levels) {
      const peer = results[2]!;
      for (const r of results) {
        const versus = r === peer ? '1×' : `**${ratio(r, peer).toFixed(1)}×**`;
        lines.push(
          `| ${callers} | ${r.name} | ${formatOps(r.opsPerSecond)} | ${formatMs(r.p50Ms)} | ${formatMs(r.p99Ms)} | ${versus} |`,
        );
      }
    }
    lines.push('');
  }
  if (runs.length > 0) {
    lines.push(
      '#### Summary: shoptoken / peer (reads/s)',
      '',
      `| store | ${CALLERS.map((c) => `hot, ${c} caller${c > 1 ? 's' : ''}`).join(' | ')} | ${CALLERS.map((c) => `cold, ${c} caller${c > 1 ? 's' : ''}`).join(' | ')} | cold ≥ 2× | floor (a round trip reading nothing), 1 caller |`,
      `|---|${CALLERS.map(() => '---|').join('')}${CALLERS.map(() => '---|').join('')}---|---|`,
    );
    for (const run of runs) {
      const versusPeer = (index: number) =>
        CALLERS.map((c) => {
          const results = run.levels.get(c)!;
          return results[index] ? ratio(results[index], results[2]!) : null;
        });
      const hot = versusPeer(0) as number[];
      const cold = versusPeer(1) as number[];
      const floor = versusPeer(3)[0];
      const worst = Math.min(...cold);
      coldRatios[run.target.store] = worst;
      lines.push(
        `| ${run.target.label} | ${hot.map((r) => `${r.toFixed(1)}×`).join(' | ')} | ${cold.map((r) => `${r.toFixed(1)}×`).join(' | ')} | ${worst >= 2 ? 'met' : '**NOT met**'} | ${floor === null || floor === undefined ? '—' : `${floor.toFixed(1)}×`} |`,
      );
    }
    for (const run of runs) {
      const prepared = CALLERS.map((c) => {
        const results = run.levels.get(c)!;
        return results[4] ? `${ratio(results[4], results[2]!).toFixed(1)}× with ${c} caller${c > 1 ? 's' : ''}` : null;
      });
      if (prepared.every((r) => r !== null)) {
        lines.push('', `${run.target.label} with \`prepare=true\` (named statements), cold: ${prepared.join(', ')}.`);
      }
    }
  }
  return { lines, coldRatios };
}

if (import.meta.main) console.log((await storesBench()).lines.join('\n'));
