/**
 * The battery's webhook-inbox rules (storage/webhook-types.ts): dedupe, one claimant per record
 * (within a connection and across connections), holder-only settle and extend, order, replay,
 * redaction and retention.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { TokenStorage } from '../storage/types.ts';
import type { WebhookRecord, WebhookStorage } from '../storage/webhook-types.ts';
import { type StorageFactory, sealed, uniqueApp } from './fixtures.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER = 'other-shop.myshopify.com';
const DAY = 86_400_000;

/** A new pending delivery of `app`, received at `at`. */
export function webhookRecord(app: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  const at = overrides.receivedAt ?? 1_000_000;
  return {
    app,
    webhookId: randomUUID(),
    shop: SHOP,
    topic: 'orders/create',
    delivery: sealed('delivery'),
    state: 'pending',
    attempts: 0,
    runAt: at,
    owner: null,
    leaseUntil: null,
    lastError: null,
    receivedAt: at,
    updatedAt: at,
    keepUntil: at + 7 * DAY,
    ...overrides,
  };
}

function inbox(storage: TokenStorage): WebhookStorage {
  assert.ok(storage.webhooks, `the ${storage.name} storage has no webhook inbox`);
  return storage.webhooks;
}

/** Opens a storage, runs `test` with its inbox and a fresh app, then deletes the app's records of both shops. */
async function withInbox(
  open: StorageFactory,
  test: (webhooks: WebhookStorage, app: string, storage: TokenStorage) => Promise<void>,
): Promise<void> {
  const storage = await open();
  const app = uniqueApp();
  try {
    await test(inbox(storage), app, storage);
  } finally {
    for (const shop of [SHOP, OTHER]) await storage.webhooks?.deleteShop(app, shop).catch(() => 0);
    await storage.close().catch(() => undefined);
  }
}

const settled = (state: WebhookRecord['state'], now: number, keepUntil = now + 7 * DAY) => ({
  state,
  runAt: now,
  lastError: state === 'done' ? null : 'ERR_HANDLER',
  keepUntil,
  now,
});

export function webhookRules(open: StorageFactory, shared: boolean): void {
  it('webhooks: a delivery is stored once; its id is a duplicate while pending and until keepUntil', async () => {
    await withInbox(open, async (webhooks, app) => {
      const record = webhookRecord(app, { topic: 'app/uninstalled' });
      assert.equal(await webhooks.add(record), true);
      assert.deepEqual(await webhooks.get(record), record, 'every field round-trips');
      assert.equal(await webhooks.add({ ...record, receivedAt: record.receivedAt + 100 * DAY }), false, 'pending');
      const [claimed] = await webhooks.claim({ app, owner: 'w', now: record.runAt, leaseMs: 1000, limit: 1 });
      assert.ok(claimed);
      assert.equal(await webhooks.settle(record, 'w', settled('done', 2_000_000, 3_000_000)), true);
      assert.equal(await webhooks.add({ ...record, receivedAt: 2_999_999 }), false, 'kept');
      assert.equal(await webhooks.add({ ...record, receivedAt: 3_000_000, topic: 'orders/paid' }), true, 'forgotten');
      const again = await webhooks.get(record);
      assert.equal(again?.topic, 'orders/paid');
      assert.equal(again?.state, 'pending');
      assert.equal(again?.attempts, 0);
      assert.equal(await webhooks.add({ ...record, app: uniqueApp() }), true, 'ids are per app');
    });
  });

  it('webhooks: claims take due records soonest first, count an attempt and hide them until the claim ends', async () => {
    await withInbox(open, async (webhooks, app) => {
      const late = webhookRecord(app, { webhookId: 'c', runAt: 3000 });
      const soon = webhookRecord(app, { webhookId: 'b', runAt: 1000 });
      const tie = webhookRecord(app, { webhookId: 'a', runAt: 1000 });
      const future = webhookRecord(app, { webhookId: 'd', runAt: 9000 });
      for (const record of [late, soon, tie, future]) await webhooks.add(record);
      assert.deepEqual(await webhooks.claim({ app: uniqueApp(), owner: 'x', now: 10_000, leaseMs: 10, limit: 9 }), []);
      const first = await webhooks.claim({ app, owner: 'w1', now: 5000, leaseMs: 1000, limit: 2 });
      assert.deepEqual(
        first.map((r) => r.webhookId),
        ['a', 'b'],
      );
      assert.deepEqual(
        first.map((r) => [r.owner, r.leaseUntil, r.attempts, r.updatedAt]),
        [
          ['w1', 6000, 1, 5000],
          ['w1', 6000, 1, 5000],
        ],
      );
      const second = await webhooks.claim({ app, owner: 'w2', now: 5000, leaseMs: 1000, limit: 9 });
      assert.deepEqual(
        second.map((r) => r.webhookId),
        ['c'],
        'claimed ones and future ones are not due',
      );
      const taken = await webhooks.claim({ app, owner: 'w3', now: 6000, leaseMs: 1000, limit: 9 });
      assert.deepEqual(taken.map((r) => [r.webhookId, r.attempts]).sort(), [
        ['a', 2],
        ['b', 2],
        ['c', 2],
      ]);
      assert.equal(await webhooks.settle(tie, 'w1', settled('done', 6500)), false, 'w1 lost its claim');
      assert.equal(await webhooks.extend(tie, 'w1', 99_000), false);
      assert.equal(await webhooks.extend(tie, 'w3', 99_000), true);
      assert.equal((await webhooks.get(tie))?.leaseUntil, 99_000);
      assert.equal(await webhooks.settle(tie, 'w3', settled('done', 6500)), true);
      const done = await webhooks.get(tie);
      assert.deepEqual([done?.state, done?.owner, done?.leaseUntil, done?.updatedAt], ['done', null, null, 6500]);
      assert.equal(await webhooks.settle(tie, 'w3', settled('dead', 6600)), false, 'settled already');
    });
  });

  it('webhooks: a failed run waits for its runAt; dead and done records are never claimed; a replay runs again', async () => {
    await withInbox(open, async (webhooks, app) => {
      const record = webhookRecord(app, { runAt: 0, receivedAt: 0 });
      await webhooks.add(record);
      await webhooks.claim({ app, owner: 'w', now: 10, leaseMs: 1000, limit: 1 });
      const retry = { state: 'pending', runAt: 500, lastError: 'ERR_TRANSPORT', keepUntil: DAY, now: 20 } as const;
      assert.equal(await webhooks.settle(record, 'w', retry), true);
      const waiting = await webhooks.get(record);
      assert.deepEqual([waiting?.owner, waiting?.leaseUntil, waiting?.lastError], [null, null, 'ERR_TRANSPORT']);
      assert.equal((await webhooks.claim({ app, owner: 'w', now: 499, leaseMs: 1000, limit: 1 })).length, 0);
      assert.equal((await webhooks.claim({ app, owner: 'w', now: 500, leaseMs: 1000, limit: 1 })).length, 1);
      assert.equal(await webhooks.settle(record, 'w', settled('dead', 600)), true);
      assert.equal((await webhooks.claim({ app, owner: 'w', now: 10 * DAY, leaseMs: 1000, limit: 9 })).length, 0);
      assert.equal(await webhooks.requeue({ app, webhookId: 'unknown' }, 700), false);
      assert.equal(await webhooks.requeue(record, 700), true);
      assert.equal(await webhooks.requeue(record, 701), false, 'pending already');
      const replayed = await webhooks.get(record);
      assert.deepEqual(
        [replayed?.state, replayed?.attempts, replayed?.runAt, replayed?.lastError, replayed?.updatedAt],
        ['pending', 0, 700, null, 700],
      );
      assert.equal((await webhooks.claim({ app, owner: 'w', now: 700, leaseMs: 1000, limit: 1 })).length, 1);
    });
  });

  it('webhooks: of many claimants asking at once, each record goes to exactly one', async () => {
    await withInbox(open, async (webhooks, app) => {
      const records = Array.from({ length: 30 }, () => webhookRecord(app));
      for (const record of records) await webhooks.add(record);
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          webhooks.claim({ app, owner: `w${i}`, now: 2_000_000, leaseMs: 60_000, limit: 7 }),
        ),
      );
      const ids = claims.flat().map((r) => r.webhookId);
      assert.equal(ids.length, 30);
      assert.equal(new Set(ids).size, 30);
    });
  });

  it('webhooks: lists by received time, filtered by state, in pages', async () => {
    await withInbox(open, async (webhooks, app) => {
      const at = (receivedAt: number, webhookId: string) => webhookRecord(app, { receivedAt, webhookId, runAt: 0 });
      for (const record of [at(300, 'b'), at(100, 'z'), at(300, 'a'), at(200, 'm')]) await webhooks.add(record);
      await webhooks.claim({ app, owner: 'w', now: 0, leaseMs: 10, limit: 1 });
      await webhooks.settle({ app, webhookId: 'a' }, 'w', settled('dead', 1));
      const all = await webhooks.list({ app, limit: 10 });
      assert.deepEqual(
        all.map((r) => r.webhookId),
        ['z', 'm', 'a', 'b'],
      );
      const page = await webhooks.list({ app, limit: 2, after: { receivedAt: 200, webhookId: 'm' } });
      assert.deepEqual(
        page.map((r) => r.webhookId),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await webhooks.list({ app, state: 'dead', limit: 10 })).map((r) => r.webhookId),
        ['a'],
      );
      assert.deepEqual(await webhooks.list({ app: uniqueApp(), limit: 10 }), []);
      await assert.rejects(() => webhooks.list({ app, limit: 0 }), TypeError);
    });
  });

  it("webhooks: a redaction deletes the shop's records but the one named; purge forgets only what is not kept", async () => {
    await withInbox(open, async (webhooks, app) => {
      const redact = webhookRecord(app, { topic: 'shop/redact' });
      const order = webhookRecord(app);
      const other = webhookRecord(app, { shop: OTHER });
      for (const record of [redact, order, other]) await webhooks.add(record);
      assert.equal(await webhooks.deleteShop(app, SHOP, redact.webhookId), 1);
      assert.equal(await webhooks.get(order), null);
      assert.ok(await webhooks.get(redact));
      assert.ok(await webhooks.get(other));
      // `other` done and expired at 5000; `redact` stays pending: pending records are never purged.
      await webhooks.claim({ app, owner: 'w', now: 1_000_000, leaseMs: 10, limit: 9 });
      await webhooks.settle(other, 'w', settled('done', 1_000_001, 5000));
      await webhooks.settle(redact, 'w', { ...settled('pending', 1_000_001, 5000), runAt: 2_000_000 });
      await webhooks.purge(4999, 1000);
      assert.ok(await webhooks.get(other), 'not yet');
      await webhooks.purge(5000, 1000);
      assert.equal(await webhooks.get(other), null);
      assert.ok(await webhooks.get(redact), 'pending');
    });
  });

  if (shared) {
    it('webhooks: two connections share the inbox: a duplicate is seen and a claim is exclusive across them', async () => {
      await withInbox(open, async (webhooks, app) => {
        const second = await open();
        try {
          const other = inbox(second);
          const record = webhookRecord(app);
          assert.equal(await webhooks.add(record), true);
          assert.equal(await other.add(record), false);
          const [a, b] = await Promise.all([
            webhooks.claim({ app, owner: 'one', now: 2_000_000, leaseMs: 60_000, limit: 5 }),
            other.claim({ app, owner: 'two', now: 2_000_000, leaseMs: 60_000, limit: 5 }),
          ]);
          assert.equal(a.length + b.length, 1);
          const owner = a.length === 1 ? 'one' : 'two';
          assert.equal(await other.settle(record, owner, settled('done', 2_000_001)), true);
          assert.equal((await webhooks.get(record))?.state, 'done');
        } finally {
          await second.close();
        }
      });
    });
  }
}
