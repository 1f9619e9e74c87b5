/**
 * The webhook inbox: acknowledged before any handler runs, deduplicated, retried with backoff,
 * dead-lettered and replayed; handlers get the delivery and the shop's Admin client, or the reason
 * it cannot be used; payloads sealed at rest.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { createWebhooks } from '../../src/webhooks/index.ts';
import type { WebhookContext } from '../../src/webhooks/types.ts';
import { deliveryRequest, inbox, SECRET, SHOP, saveToken } from './fixture.ts';

describe('webhook inbox: receiving', () => {
  it('answers 200 once the delivery is stored, before its handler runs; the handler gets every field', async () => {
    const seen: WebhookContext[] = [];
    const { webhooks, vault } = inbox({ handlers: { 'orders/create': (ctx) => void seen.push(ctx) } });
    await saveToken(vault);
    const response = await webhooks.handle(
      deliveryRequest({ webhookId: 'wh-1', eventId: 'ev-1', body: '{"id":7,"total":"9.99"}' }),
    );
    assert.equal(response?.status, 200);
    assert.equal(await response?.text(), 'received');
    assert.equal(seen.length, 0, 'nothing runs before the answer');
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    assert.equal(seen.length, 1);
    const ctx = seen[0]!;
    assert.deepEqual(
      [ctx.topic, ctx.shop, ctx.payload, ctx.webhookId, ctx.eventId, ctx.apiVersion, ctx.attempt, ctx.adminError],
      ['orders/create', SHOP, { id: 7, total: '9.99' }, 'wh-1', 'ev-1', '2026-10', 1, null],
    );
    assert.equal(ctx.triggeredAt?.raw, '2026-12-01T10:00:00.123456789Z');
    assert.equal(ctx.triggeredAt?.epochNs, 1_796_119_200_123_456_789n);
    assert.equal(ctx.admin.shop, SHOP);
  });

  it('a duplicate gets 200 and its handler does not run again, in either header family', async () => {
    let runs = 0;
    const { webhooks } = inbox({ handlers: { 'orders/create': () => void runs++ } });
    for (const family of ['x-shopify', 'shopify', 'x-shopify'] as const) {
      const response = await webhooks.handle(deliveryRequest({ webhookId: 'same-id', family }));
      assert.equal(response?.status, 200);
    }
    await webhooks.drain();
    const again = await webhooks.handle(deliveryRequest({ webhookId: 'same-id' }));
    assert.equal(await again?.text(), 'duplicate');
    await webhooks.drain();
    assert.equal(runs, 1);
  });

  it('refuses bad requests with their status and stores nothing; other paths are not its', async () => {
    let runs = 0;
    const { webhooks, vault } = inbox({ handlers: { 'orders/create': () => void runs++ }, maxBodyBytes: 64 });
    const cases: [Request, number][] = [
      [deliveryRequest({ secret: 'another-secret' }), 401],
      [deliveryRequest({ method: 'PUT' }), 405],
      [deliveryRequest({ shop: 'evil.example.com' }), 400],
      [deliveryRequest({ body: 'not json' }), 400],
      [deliveryRequest({ body: JSON.stringify({ pad: 'x'.repeat(100) }) }), 413],
    ];
    for (const [request, status] of cases) assert.equal((await webhooks.handle(request))?.status, status);
    const get = await webhooks.handle(deliveryRequest({ method: 'GET' }));
    assert.equal(get?.status, 405);
    assert.equal(get?.headers.get('allow'), 'POST');
    assert.equal(await webhooks.handle(deliveryRequest({ path: '/auth' })), null);
    assert.equal((await webhooks.handle(deliveryRequest({ path: '/webhooks/orders/create' })))?.status, 200);
    assert.equal(await webhooks.handle(deliveryRequest({ path: '/webhookss' })), null);
    assert.equal((await vault.webhookInbox()?.list({ limit: 100 }))?.length, 1, 'only the good one');
    await webhooks.drain();
    assert.equal(runs, 1);
  });

  it('answers 503 with Retry-After when the store cannot be reached (Shopify retries); never a 500', async () => {
    const storage = createMemoryStorage();
    const { webhooks } = inbox({}, storage);
    await storage.close();
    const response = await webhooks.handle(deliveryRequest());
    assert.equal(response?.status, 503);
    assert.equal(response?.headers.get('retry-after'), '5');
  });

  it('keeps payloads sealed at rest: the stored record holds no part of the body', async () => {
    const { webhooks, vault } = inbox();
    await webhooks.handle(deliveryRequest({ webhookId: 'sealed', body: '{"email":"jane@example.com"}' }));
    const [record] = (await vault.webhookInbox()?.list({ limit: 1 })) ?? [];
    assert.ok(record);
    assert.doesNotMatch(record.delivery, /jane|example\.com|orders\/create/);
    assert.match((await vault.webhookInbox()?.get('sealed'))?.delivery ?? '', /jane@example\.com/);
  });

  it('checks its options when built, naming each problem', () => {
    const storage = createMemoryStorage();
    const { vault } = inbox({}, storage);
    assert.throws(
      () => createWebhooks({ vault, apiSecret: '', path: 'hooks/', handlers: { Orders: () => {} }, maxAttempts: 0 }),
      (error: unknown) =>
        error instanceof ConfigError &&
        ['apiSecret', 'path', '"Orders"', 'maxAttempts'].every((name) => error.problems.some((p) => p.includes(name))),
    );
    const noInbox: TokenStorage = { ...createMemoryStorage(), webhooks: undefined } as unknown as TokenStorage;
    assert.throws(() => createWebhooks({ vault: inbox({}, noInbox).vault, apiSecret: SECRET }), /no webhook inbox/);
  });
});

describe('webhook inbox: running', () => {
  it('retries a failing handler with backoff, then dead-letters it; lastError keeps no token; a replay runs it again', async () => {
    let fail = true;
    let runs = 0;
    const errors: number[] = [];
    const { webhooks, vault, clock } = inbox({
      maxAttempts: 3,
      onError: (_error, info) => void errors.push(info.attempt),
      handlers: {
        'orders/create': () => {
          runs++;
          if (fail) throw new Error('downstream refused shpat_0123456789abcdef');
        },
      },
    });
    await webhooks.handle(deliveryRequest({ webhookId: 'flaky' }));
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 1, dead: 0 });
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 0, dead: 0 }, 'not before its time');
    const inboxView = vault.webhookInbox()!;
    const waiting = await inboxView.get('flaky');
    assert.equal(waiting?.record.state, 'pending');
    assert.ok(waiting && waiting.record.runAt >= clock.now() + 900 && waiting.record.runAt <= clock.now() + 1100);
    assert.equal(waiting?.record.lastError, 'Error: downstream refused [redacted]');
    clock.advance(1100);
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 1, dead: 0 });
    clock.advance(2200);
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 0, dead: 1 });
    assert.equal((await inboxView.get('flaky'))?.record.state, 'dead');
    assert.deepEqual(errors, [1, 2, 3]);
    clock.advance(10 * 86_400_000);
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 0, dead: 0 }, 'a dead letter stays dead');
    fail = false;
    assert.equal(await inboxView.requeue('flaky', clock.now()), true);
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    assert.equal(runs, 4);
  });

  it("runs the handler even when the shop's token cannot be made valid, with adminError saying why", async () => {
    const seen: WebhookContext[] = [];
    const { webhooks } = inbox({ handlers: { 'orders/create': (ctx) => void seen.push(ctx) } });
    assert.equal((await webhooks.handle(deliveryRequest()))?.status, 200);
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    const ctx = seen[0]!;
    assert.ok(ctx.adminError instanceof ShoptokenError);
    assert.equal(ctx.adminError.code, 'ERR_NEEDS_REAUTH');
    await assert.rejects(() => ctx.admin.request('{ shop { name } }'), { code: 'ERR_NEEDS_REAUTH' });
  });

  it('a handler past handlerTimeoutMs is aborted through its signal and runs again later', async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const { webhooks, vault, clock } = inbox({
      handlerTimeoutMs: 50,
      onError: () => undefined,
      handlers: {
        'orders/create': async ({ signal }) => {
          signals.push(signal);
          if (++calls === 1) await new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
      },
    });
    await webhooks.handle(deliveryRequest({ webhookId: 'slow' }));
    assert.deepEqual(await webhooks.drain(), { done: 0, retried: 1, dead: 0 });
    assert.equal(signals[0]?.aborted, true);
    assert.match(
      (await vault.webhookInbox()?.get('slow'))?.record.lastError ?? '',
      /^ERR_TIMEOUT: the handler did not finish within 50 ms/,
    );
    clock.advance(2000);
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    assert.equal(signals[1]?.aborted, false);
  });

  it('a failing handler is reported as a ShoptokenWarning by default, without payload or token', async () => {
    const warnings: Error[] = [];
    const listener = (warning: Error) => void warnings.push(warning);
    process.on('warning', listener);
    try {
      const { webhooks } = inbox({
        onError: undefined, // the default
        handlers: { 'orders/create': () => Promise.reject(new Error('refused with shpat_abcdef0123456789')) },
      });
      await webhooks.handle(deliveryRequest({ webhookId: 'warned', body: '{"email":"jane@example.com"}' }));
      await webhooks.drain();
      await new Promise((resolve) => setImmediate(resolve));
      const warning = warnings.find((w) => w.name === 'ShoptokenWarning');
      assert.ok(warning);
      assert.match(warning.message, /orders\/create for cool-shop\.myshopify\.com \(webhook warned, attempt 1\)/);
      assert.doesNotMatch(warning.message, /shpat_|jane@/);
    } finally {
      process.off('warning', listener);
    }
  });

  it('a topic without a handler is acknowledged and done', async () => {
    const { webhooks } = inbox();
    await webhooks.handle(deliveryRequest({ topic: 'products/update' }));
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
  });

  it('the background worker keeps claiming when deliveries arrive while it is full (concurrency 1)', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { webhooks } = inbox({
      concurrency: 1,
      pollIntervalMs: 20,
      handlers: {
        'orders/create': async ({ webhookId }) => {
          await gate;
          ran.push(webhookId);
        },
      },
    });
    webhooks.start();
    try {
      for (const id of ['a', 'b', 'c', 'd']) await webhooks.handle(deliveryRequest({ webhookId: id }));
      await new Promise((r) => setTimeout(r, 60));
      release();
      for (let i = 0; i < 100 && ran.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(ran.sort(), ['a', 'b', 'c', 'd']);
    } finally {
      await webhooks.stop();
    }
  });

  it('the background worker runs a new delivery at once and stops cleanly', async () => {
    let resolve!: (ctx: WebhookContext) => void;
    const ran = new Promise<WebhookContext>((r) => (resolve = r));
    const { webhooks } = inbox({ pollIntervalMs: 60_000, handlers: { 'orders/create': (ctx) => resolve(ctx) } });
    webhooks.start();
    try {
      await webhooks.handle(deliveryRequest({ webhookId: 'background' }));
      assert.equal((await ran).webhookId, 'background');
    } finally {
      await webhooks.stop();
    }
  });
});
