/**
 * The Redis storage's indexes and key layout against a real server (SHOPTOKEN_TEST_REDIS_URL):
 * a seeded random history compared step by step with the memory reference; indexes that fell
 * behind or were damaged never give a wrong answer and are repaired; index updates that arrive out
 * of order; identities with NUL, braces, colons and non-ASCII; the set of apps; separate prefixes.
 * Without a server the suites are skipped with a printed reason, unless SHOPTOKEN_REQUIRE_SERVICES=1.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { connectRedis } from '../../src/storage/redis/connection.ts';
import { openRedisStorage } from '../../src/storage/redis/index.ts';
import { syncIndexes } from '../../src/storage/redis/indexes.ts';
import { redisKeys, rowTail, timeKey } from '../../src/storage/redis/keys.ts';
import { parseRedisUrl } from '../../src/storage/redis/url.ts';
import { compareKeys } from '../../src/storage/row-codec.ts';
import type { DueIndex, TokenKey, TokenRow, TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, onlineKey, onlineRow, sealed } from '../../src/testing/fixtures.ts';

const BASE = process.env.SHOPTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const RUN = `shoptoken-test-${randomBytes(4).toString('hex')}`;
const SEED = Number(process.env.SHOPTOKEN_PROPERTY_SEED ?? 20_240_611);
const INDEXES: DueIndex[] = ['access', 'refresh', 'renew'];

async function unreachable(): Promise<string | null> {
  const client = new Redis(BASE, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let seen: unknown;
  client.on('error', (error: unknown) => {
    seen = error;
  });
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    const { code, message } = (seen ?? error) as { code?: string; message?: string };
    return `Redis at SHOPTOKEN_TEST_REDIS_URL is not reachable (${code ?? message})`;
  } finally {
    client.disconnect();
  }
}

/** A seeded PRNG (mulberry32): the same history every run for one seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const reason = await unreachable();
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('Redis is reachable (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the redis index tests: ${reason}`);
  it('redis storage indexes', { skip: reason }, () => undefined);
}

function declareSuites(): void {
  const admin = new Redis(BASE, { maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  const urlFor = (what: string): string => {
    const url = new URL(BASE);
    url.searchParams.set('prefix', `${RUN}-${what}`);
    return url.toString();
  };

  after(async () => {
    let cursor = '0';
    do {
      const [next, keys] = (await admin.call('SCAN', cursor, 'MATCH', `${RUN}*`, 'COUNT', 1000)) as [string, string[]];
      if (keys.length > 0) await admin.call('UNLINK', ...keys);
      cursor = next;
    } while (cursor !== '0');
    admin.disconnect();
  });

  describe('redis storage: indexes against the memory reference', () => {
    it('a seeded random history: every answer, every list page and every due page as the reference gives', async () => {
      const redis = await openRedisStorage(urlFor('history'));
      const memory = createMemoryStorage();
      const pick = random(SEED);
      const choose = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)]!;
      const apps = ['', 'B', 'a', 'a\u0000', 'ü'];
      const shops = ['a.myshopify.com', 'a-b.myshopify.com', 'a0.myshopify.com', 'a', 'a\u0000b', 'a{b}:c', 'é%'];
      const users = ['42', '5', '\u0000', 'x:y'];
      const time = () => (pick() < 0.2 ? null : Math.floor(pick() * 12) * 1000 - 2000);
      const row = (): TokenRow => {
        const app = choose(apps);
        const shop = choose(shops);
        const n = Math.floor(pick() * 4);
        const base = pick() < 0.7 ? offlineRow(app, shop) : onlineRow(app, shop, { userId: choose(users) });
        return {
          ...base,
          accessToken: sealed(`access-${n}`),
          refreshToken: pick() < 0.25 ? null : sealed(`refresh-${n}`),
          expiresAt: time(),
          refreshTokenExpiresAt: time(),
          renewAt: time(),
          status: pick() < 0.15 ? 'needs_reauth' : 'active',
          createdAt: Math.floor(pick() * 1000),
          installedAt: pick() < 0.5 ? null : 7,
        };
      };
      const both = async <T>(what: string, call: (storage: TokenStorage) => Promise<T>): Promise<void> => {
        assert.deepEqual(await call(redis), await call(memory), what);
      };
      const compareAll = async (step: number): Promise<void> => {
        const limit = 1 + Math.floor(pick() * 6);
        let after: TokenKey | undefined;
        for (let page = 0; page < 200; page++) {
          const want = await memory.list({ limit, ...(after ? { after } : {}) });
          assert.deepEqual(
            await redis.list({ limit, ...(after ? { after } : {}) }),
            want,
            `step ${step}: list page ${page}`,
          );
          if (want.length < limit) break;
          after = want.at(-1);
        }
        for (const app of apps) {
          await both(`step ${step}: list of one app`, (storage) => storage.list({ app, limit: 1000 }));
          for (const index of INDEXES) {
            const before = Math.floor(pick() * 14) * 1000 - 3000;
            let cursor: { at: number; shop: string } | undefined;
            for (let page = 0; page < 100; page++) {
              const query = { app, before, limit, ...(cursor ? { after: cursor } : {}) };
              const want = await memory.due(index, query);
              assert.deepEqual(await redis.due(index, query), want, `step ${step}: due ${index} page ${page}`);
              const last = want.at(-1);
              if (want.length < limit || !last) break;
              const at =
                index === 'access' ? last.expiresAt : index === 'refresh' ? last.refreshTokenExpiresAt : last.renewAt;
              cursor = { at: at!, shop: last.shop };
            }
          }
        }
      };
      try {
        for (let step = 0; step < 1500; step++) {
          const roll = pick();
          if (roll < 0.45) {
            const next = row();
            await both(`step ${step}: put`, async (storage) => storage.put(next));
          } else if (roll < 0.7) {
            const next = row();
            const current = await memory.get(next);
            const expected =
              pick() < 0.5
                ? { refreshToken: current?.refreshToken ?? sealed('refresh-0') }
                : { accessToken: pick() < 0.8 ? (current?.accessToken ?? '') : sealed('access-9') };
            await both(`step ${step}: swap`, (storage) => storage.swap(next, expected, next));
          } else if (roll < 0.8) {
            const [app, shop] = [choose(apps), choose(shops)];
            await both(`step ${step}: markInstalled`, (storage) => storage.markInstalled(app, shop, step));
          } else if (roll < 0.9) {
            const [app, shop, user] = [choose(apps), choose(shops), choose(users)];
            await both(`step ${step}: deleteOnline`, (storage) => storage.deleteOnline(app, shop, user));
          } else {
            const [app, shop] = [choose(apps), choose(shops)];
            await both(`step ${step}: deleteShop`, (storage) => storage.deleteShop(app, shop));
          }
          if (step % 100 === 99) await compareAll(step);
        }
        await compareAll(1500);
        for (const app of apps) for (const shop of shops) await redis.deleteShop(app, shop);
        assert.deepEqual(await redis.list({ limit: 100 }), []);
        assert.equal(await admin.zcard(`${RUN}-history:apps`), 0, 'no app left in the set of apps');
      } finally {
        await redis.close();
      }
    });
  });

  describe('redis storage: damaged or late indexes', () => {
    it('due entries that are stale, orphaned or junk never give a wrong answer, and are repaired', async () => {
      const prefix = `${RUN}-damaged`;
      const storage = await openRedisStorage(urlFor('damaged'));
      const app = `damaged-${randomUUID()}`;
      const shop = (n: number) => `s${n}.myshopify.com`;
      const dueKey = `${prefix}:app:{app:${app}}:due:access`;
      const names = (rows: TokenRow[]) => rows.map((row) => row.shop);
      try {
        for (const n of [1, 2, 3, 4]) await storage.put(offlineRow(app, shop(n), { expiresAt: n * 1000 }));
        // A row gone without its index update (a writer that died between the two steps).
        await admin.del(`${prefix}:t:{${app}:${shop(2)}}:offline`, `${prefix}:t:{${app}:${shop(2)}}:rows`);
        // A row whose time moved without its index update.
        await admin.hset(`${prefix}:t:{${app}:${shop(3)}}:offline`, 'expires_at', '6000');
        // An entry nobody wrote for a real shop, one for a shop that never was, and junk.
        await admin.call(
          'ZADD',
          dueKey,
          0,
          `${timeKey(500)}${shop(4)}`,
          0,
          `${timeKey(1500)}ghost.myshopify.com`,
          0,
          '!junk',
        );
        assert.deepEqual(names(await storage.due('access', { app, before: 5000, limit: 10 })), [shop(1), shop(4)]);
        assert.deepEqual(names(await storage.due('access', { app, before: 7000, limit: 10 })), [
          shop(1),
          shop(4),
          shop(3),
        ]);
        assert.deepEqual(
          await admin.zrange(dueKey, '0', '-1'),
          [`${timeKey(1000)}${shop(1)}`, `${timeKey(4000)}${shop(4)}`, `${timeKey(6000)}${shop(3)}`],
          'the index holds exactly the current entries again',
        );
        assert.deepEqual(names(await storage.list({ app, limit: 10 })), [shop(1), shop(3), shop(4)]);
        assert.equal(await admin.zcard(`${prefix}:app:{app:${app}}:rows`), 3, 'the gone row is no longer listed');
        // Listing alone repairs too: a list member whose row went without its index update.
        await admin.del(`${prefix}:t:{${app}:${shop(4)}}:offline`, `${prefix}:t:{${app}:${shop(4)}}:rows`);
        assert.deepEqual(names(await storage.list({ app, limit: 10 })), [shop(1), shop(3)]);
        assert.equal(await admin.zcard(`${prefix}:app:{app:${app}}:rows`), 2);
        assert.deepEqual(names(await storage.due('access', { app, before: 7000, limit: 10 })), [shop(1), shop(3)]);
      } finally {
        for (const n of [1, 2, 3, 4]) await storage.deleteShop(app, shop(n));
        await storage.close();
      }
    });

    it('an index update that arrives after a newer one is ignored', async () => {
      const prefix = `${RUN}-late`;
      const storage = await openRedisStorage(urlFor('late'));
      const connection = await connectRedis(parseRedisUrl(urlFor('late')));
      const app = `late-${randomUUID()}`;
      const shop = 'cool-shop.myshopify.com';
      try {
        await storage.put(offlineRow(app, shop, { expiresAt: 1000 }));
        await storage.put(offlineRow(app, shop, { expiresAt: 5000 }));
        const version = Number(await admin.get(`${prefix}:t:{${app}:${shop}}:v`));
        // The first write's index update, delayed until now.
        await syncIndexes(connection, redisKeys(prefix), app, shop, {
          version: String(version - 1),
          times: ['1000', '1000000', ''],
          tails: [rowTail('offline', '')],
        });
        assert.deepEqual(await storage.due('access', { app, before: 2000, limit: 10 }), []);
        assert.equal((await storage.due('access', { app, before: 5000, limit: 10 })).length, 1);
        // A deleted shop's late update: its entries are dropped on the first read.
        await storage.deleteShop(app, shop);
        await syncIndexes(connection, redisKeys(prefix), app, shop, {
          version: '1',
          times: ['1000', '', ''],
          tails: [rowTail('offline', '')],
        });
        assert.deepEqual(await storage.due('access', { app, before: 2000, limit: 10 }), []);
        assert.deepEqual(await storage.list({ app, limit: 10 }), []);
        assert.equal(await admin.zcard(`${prefix}:app:{app:${app}}:due:access`), 0);
        assert.equal(await admin.zcard(`${prefix}:app:{app:${app}}:rows`), 0);
      } finally {
        await storage.deleteShop(app, shop);
        await connection.close();
        await storage.close();
      }
    });
  });

  describe('redis storage: key layout', () => {
    it('identities with NUL, braces, colons, percent signs and non-ASCII never collide and list bytewise', async () => {
      const storage = await openRedisStorage(urlFor('identities'));
      const keys: TokenKey[] = [
        offlineKey('x:y', 'z'),
        offlineKey('x', 'y:z'),
        offlineKey('x', 'y%3Az'),
        offlineKey('{x}', 'y'),
        offlineKey('x}', '{y'),
        offlineKey('x\u0000', 'y'),
        offlineKey('x', '\u0000y'),
        offlineKey('x', ''),
        offlineKey('', 'x'),
        onlineKey('x', 'y:z', '\u0000'),
        onlineKey('x', 'y:z', '\u0000\u0001'),
        onlineKey('x', 'y:z', 'é'),
        onlineKey('x', 'y:z', '1:2'),
      ];
      try {
        for (const [i, key] of keys.entries()) {
          const row = key.kind === 'offline' ? offlineRow(key.app, key.shop) : onlineRow(key.app, key.shop, key);
          await storage.put({ ...row, ...key, accessToken: sealed(`access-${i}`) });
        }
        for (const [i, key] of keys.entries()) {
          assert.equal((await storage.get(key))?.accessToken, sealed(`access-${i}`), JSON.stringify(key));
        }
        const listed = await storage.list({ limit: 100 });
        assert.deepEqual(
          listed.map((row) => [row.app, row.shop, row.kind, row.userId]),
          [...keys].sort(compareKeys).map((key) => [key.app, key.shop, key.kind, key.userId]),
        );
        assert.equal(await storage.deleteShop('x', 'y:z'), 5);
        assert.equal((await storage.list({ limit: 100 })).length, keys.length - 5);
        await assert.rejects(storage.put(offlineRow('x', 'y', { userId: '7' })), TypeError);
        assert.equal(await storage.get({ app: 'x', shop: 'y', kind: 'offline', userId: '7' }), null);
      } finally {
        for (const key of keys) await storage.deleteShop(key.app, key.shop);
        await storage.close();
      }
    });

    it('every key of a shop shares one hash tag; every index key of an app another', async () => {
      const prefix = `${RUN}-tags`;
      const storage = await openRedisStorage(urlFor('tags'));
      const app = `tags-${randomUUID()}`;
      const shop = 'cool-shop.myshopify.com';
      try {
        await storage.put(offlineRow(app, shop, { renewAt: 5 }));
        await storage.put(onlineRow(app, shop));
        const found = (
          (await admin.call('SCAN', '0', 'MATCH', `${prefix}:*`, 'COUNT', 10_000)) as [string, string[]]
        )[1];
        const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
        const byTag = new Map<string, string[]>();
        for (const key of found) byTag.set(tag(key) ?? '(none)', [...(byTag.get(tag(key) ?? '(none)') ?? []), key]);
        assert.deepEqual([...byTag.keys()].sort(), ['(none)', `${app}:${shop}`, `app:${app}`].sort());
        assert.deepEqual(
          byTag
            .get(`${app}:${shop}`)!
            .map((key) => key.slice(key.indexOf('}') + 2))
            .sort(),
          ['offline', 'online:42', 'rows', 'v'],
        );
        assert.deepEqual(
          byTag
            .get(`app:${app}`)!
            .map((key) => key.slice(key.indexOf('}') + 2))
            .sort(),
          ['due:access', 'due:refresh', 'due:renew', 'rows', 'shops'],
        );
        assert.deepEqual(byTag.get('(none)')!.sort(), [`${prefix}:apps`, `${prefix}:schema`]);
        const hash = await admin.hgetall(`${prefix}:t:{${app}:${shop}}:offline`);
        assert.equal(hash.refresh_token, sealed('refresh-1'), 'fields are the codec’s column names');
        assert.equal(hash.renew_at, '5', 'numbers as decimal strings');
        assert.equal('installed_at' in hash, false, 'null as an absent field');
      } finally {
        await storage.deleteShop(app, shop);
        await storage.close();
      }
    });

    it('an app whose last row goes leaves the set of apps; prefixes are separate stores', async () => {
      const one = await openRedisStorage(urlFor('one'));
      const two = await openRedisStorage(urlFor('two'));
      const app = `apps-${randomUUID()}`;
      const shop = 'cool-shop.myshopify.com';
      try {
        await one.put(offlineRow(app, shop));
        assert.equal(await two.get(offlineKey(app, shop)), null);
        assert.deepEqual(await two.list({ limit: 10 }), []);
        assert.notEqual(await admin.zscore(`${RUN}-one:apps`, app), null);
        await one.deleteShop(app, shop);
        assert.equal(await admin.zscore(`${RUN}-one:apps`, app), null);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  });
}
