/**
 * The Redis webhook inbox against a real server (SHOPTOKEN_TEST_REDIS_URL), beyond the battery: a
 * seeded random history (callers on clocks that disagree, negative times, ids with NUL and braces)
 * compared step by step with the memory reference; list members whose hex time the scripts write
 * exactly as keys.ts does; a redaction larger than one script's batch; purge across apps with a
 * limit. Without a server the suites are skipped with a printed reason, unless
 * SHOPTOKEN_REQUIRE_SERVICES=1.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { memoryWebhooks } from '../../src/storage/memory-webhooks.ts';
import { openRedisStorage } from '../../src/storage/redis/index.ts';
import { timeKey } from '../../src/storage/redis/keys.ts';
import type { WebhookRecord, WebhookStorage } from '../../src/storage/webhook-types.ts';
import { webhookRecord } from '../../src/testing/conformance-webhooks.ts';

const BASE = process.env.SHOPTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const RUN = `shoptoken-test-${randomBytes(4).toString('hex')}`;
const SEED = Number(process.env.SHOPTOKEN_PROPERTY_SEED ?? 20_240_611);

async function unreachable(): Promise<string | null> {
  const client = new Redis(BASE, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at SHOPTOKEN_TEST_REDIS_URL is not reachable (${(error as Error).message})`;
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
  console.log(`# skipping the redis webhook tests: ${reason}`);
  it('redis webhook inbox', { skip: reason }, () => undefined);
}

function declareSuites(): void {
  const admin = new Redis(BASE, { maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  const urlFor = (what: string): string => {
    const url = new URL(BASE);
    url.searchParams.set('prefix', `${RUN}-${what}`);
    return url.toString();
  };
  const inboxOf = async (what: string) => {
    const storage = await openRedisStorage(urlFor(what));
    assert.ok(storage.webhooks);
    return { storage, webhooks: storage.webhooks };
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

  describe('redis webhook inbox', () => {
    it('a seeded random history on disagreeing clocks: every answer as the memory reference gives', async () => {
      const { storage, webhooks: redis } = await inboxOf('history');
      const memory = memoryWebhooks(() => undefined);
      const pick = random(SEED);
      const choose = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)]!;
      const apps = ['', 'a', 'a{b}:c'];
      const ids = ['a', 'b', 'a\u0000', 'a\u0000b', '{x}', 'é', 'z:1'];
      const shops = ['one.myshopify.com', 'two.myshopify.com'];
      const owners = ['w1', 'w2', 'w3'];
      const time = () => Math.floor(pick() * 16) * 1000 - 6000;
      const both = async <T>(what: string, call: (inbox: WebhookStorage) => Promise<T>): Promise<void> => {
        assert.deepEqual(await call(redis), await call(memory), what);
      };
      try {
        for (let step = 0; step < 1500; step++) {
          const app = choose(apps);
          const key = { app, webhookId: choose(ids) };
          const owner = choose(owners);
          const now = time();
          const roll = pick();
          const at = `step ${step}`;
          if (roll < 0.25) {
            const receivedAt = time();
            const record: WebhookRecord = webhookRecord(app, {
              ...key,
              shop: choose(shops),
              receivedAt,
              runAt: time(),
              keepUntil: receivedAt + Math.floor(pick() * 8) * 1000,
              attempts: Math.floor(pick() * 3),
            });
            await both(`${at}: add`, (inbox) => inbox.add(record));
          } else if (roll < 0.45) {
            const claim = {
              app,
              owner,
              now,
              leaseMs: Math.floor(pick() * 4) * 1000,
              limit: 1 + Math.floor(pick() * 3),
            };
            await both(`${at}: claim`, (inbox) => inbox.claim(claim));
          } else if (roll < 0.52) {
            const leaseUntil = time();
            await both(`${at}: extend`, (inbox) => inbox.extend(key, owner, leaseUntil));
          } else if (roll < 0.7) {
            const state = choose(['pending', 'done', 'dead'] as const);
            const outcome = { state, runAt: time(), lastError: pick() < 0.5 ? null : 'ERR_X', keepUntil: time(), now };
            await both(`${at}: settle`, (inbox) => inbox.settle(key, owner, outcome));
          } else if (roll < 0.77) {
            await both(`${at}: requeue`, (inbox) => inbox.requeue(key, now));
          } else if (roll < 0.8) {
            const shop = choose(shops);
            const except = pick() < 0.5 ? undefined : choose(ids);
            await both(`${at}: deleteShop`, (inbox) => inbox.deleteShop(app, shop, except));
          } else if (roll < 0.83) {
            await both(`${at}: purge`, (inbox) => inbox.purge(now, 10_000));
          } else {
            await both(`${at}: get`, (inbox) => inbox.get(key));
            const state = choose([undefined, 'pending', 'done', 'dead'] as const);
            const limit = 1 + Math.floor(pick() * 3);
            let cursor: { receivedAt: number; webhookId: string } | undefined;
            for (let page = 0; page < 20; page++) {
              const query = { app, limit, ...(state ? { state } : {}), ...(cursor ? { after: cursor } : {}) };
              const want = await memory.list(query);
              assert.deepEqual(await redis.list(query), want, `${at}: list page ${page}`);
              if (want.length < limit) break;
              cursor = want.at(-1);
            }
          }
        }
      } finally {
        await storage.close();
      }
    });

    it('the scripts write the hex of a time as keys.ts does, for every safe integer', async () => {
      const { storage, webhooks } = await inboxOf('times');
      const times = [-(2 ** 53 - 1), -(2 ** 28) - 1, -(2 ** 28), -1, 0, 1, 2 ** 28 - 1, 2 ** 28, 1_700_000_000_123];
      try {
        for (const receivedAt of [...times, 2 ** 53 - 1]) {
          await webhooks.add(webhookRecord('t', { webhookId: String(receivedAt), receivedAt, runAt: 0, keepUntil: 0 }));
        }
        const members = await admin.call('ZRANGE', `${RUN}-times:wh:{wh:t}:list`, 0, -1);
        assert.deepEqual(
          members,
          [...times, 2 ** 53 - 1].map((time) => `${timeKey(time)}${time}`),
        );
      } finally {
        await storage.close();
      }
    });

    it('a redaction of more records than one batch deletes them all but the one named', async () => {
      const { storage, webhooks } = await inboxOf('redact');
      try {
        const records = Array.from({ length: 2500 }, (_, i) => webhookRecord('r', { webhookId: `id-${i}` }));
        await Promise.all(records.map((record) => webhooks.add(record)));
        assert.equal(await webhooks.deleteShop('r', records[0]!.shop, 'id-7'), 2499);
        assert.deepEqual(
          (await webhooks.list({ app: 'r', limit: 10 })).map((r) => r.webhookId),
          ['id-7'],
        );
        assert.equal(await admin.zcard(`${RUN}-redact:wh:{wh:r}:due`), 1);
      } finally {
        await storage.close();
      }
    });

    it('purge works through every app, up to its limit, and leaves pending records', async () => {
      const { storage, webhooks } = await inboxOf('purge');
      try {
        for (const app of ['x', 'y', 'z']) {
          for (let i = 0; i < 4; i++) {
            const record = webhookRecord(app, { webhookId: `${i}`, runAt: 0, keepUntil: 100 });
            await webhooks.add(record);
          }
          await webhooks.claim({ app, owner: 'w', now: 0, leaseMs: 10, limit: 3 });
          for (let i = 0; i < 3; i++) {
            await webhooks.settle({ app, webhookId: `${i}` }, 'w', {
              state: 'done',
              runAt: 0,
              lastError: null,
              keepUntil: 100,
              now: 1,
            });
          }
        }
        assert.equal(await webhooks.purge(99, 100), 0);
        assert.equal(await webhooks.purge(100, 5), 5);
        assert.equal(await webhooks.purge(100, 100), 4);
        for (const app of ['x', 'y', 'z']) {
          assert.deepEqual(
            (await webhooks.list({ app, limit: 10 })).map((r) => [r.webhookId, r.state]),
            [['3', 'pending']],
          );
        }
      } finally {
        await storage.close();
      }
    });
  });
}
