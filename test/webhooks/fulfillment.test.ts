/**
 * A fulfillment service's callbacks through the inbox: a notification is stored, acknowledged and
 * then run with the shop's Admin client; stock and tracking queries are answered from the app's
 * functions, signed queries only; a failing function is a 503, never a 500.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signFulfillmentQuery } from '../../src/protocol/fulfillment-callback.ts';
import { signWebhookBody } from '../../src/protocol/webhook.ts';
import type { FulfillmentNotificationPayload, WebhookContext } from '../../src/webhooks/types.ts';
import { APP_URL, inbox, SECRET, SHOP, saveToken } from './fixture.ts';

function notification(kind: string, secret = SECRET): Request {
  const body = JSON.stringify({ kind });
  return new Request(`${APP_URL}/fulfillment/fulfillment_order_notification`, {
    method: 'POST',
    body,
    headers: { 'x-shopify-hmac-sha256': signWebhookBody(body, secret), 'x-shopify-shop-domain': SHOP },
  });
}

function callback(name: string, query: string, secret = SECRET): Request {
  return new Request(`${APP_URL}/fulfillment/${name}?${query}`, {
    headers: { 'x-shopify-hmac-sha256': signFulfillmentQuery(query, secret) },
  });
}

describe('fulfillment service callbacks', () => {
  it('a notification is acknowledged, then run with the Admin client; a forged one is refused', async () => {
    const seen: WebhookContext<FulfillmentNotificationPayload>[] = [];
    const { webhooks, vault } = inbox({ fulfillment: { onNotification: (ctx) => void seen.push(ctx) } });
    await saveToken(vault);
    const ok = await webhooks.handle(notification('FULFILLMENT_REQUEST'));
    assert.equal(ok?.status, 200);
    assert.equal((await webhooks.handle(notification('FULFILLMENT_REQUEST', 'forged')))?.status, 401);
    assert.equal(seen.length, 0);
    await webhooks.drain();
    assert.equal(seen.length, 1);
    assert.deepEqual([seen[0]?.shop, seen[0]?.payload.kind, seen[0]?.adminError], [SHOP, 'FULFILLMENT_REQUEST', null]);
  });

  it('answers fetch_stock and fetch_tracking_numbers from the app, for signed and fresh queries only', async () => {
    const { webhooks, vault, clock } = inbox({
      fulfillment: {
        fetchStock: ({ sku, shop }) => (sku ? { [sku]: 7 } : { 'SKU-1': 7, 'SKU-2': 0, shop: shop.length }),
        fetchTrackingNumbers: ({ orderNames }) => Object.fromEntries(orderNames.map((name) => [name, `TRK${name}`])),
      },
    });
    await saveToken(vault);
    const stamp = Math.floor(clock.now() / 1000);
    const stock = await webhooks.handle(
      callback('fetch_stock.json', `max_retries=3&shop=${SHOP}&timestamp=${stamp}&sku=SKU-1`),
    );
    assert.equal(stock?.status, 200);
    assert.deepEqual(await stock?.json(), { 'SKU-1': 7 });
    const all = await webhooks.handle(callback('fetch_stock', `shop=${SHOP}&timestamp=${stamp}`));
    assert.deepEqual(await all?.json(), { 'SKU-1': 7, 'SKU-2': 0, shop: SHOP.length });
    const tracking = await webhooks.handle(
      callback(
        'fetch_tracking_numbers.json',
        `order_names[]=%231001.1&order_names[]=%231002.1&shop=${SHOP}&timestamp=${stamp}`,
      ),
    );
    assert.deepEqual(await tracking?.json(), {
      tracking_numbers: { '#1001.1': 'TRK#1001.1', '#1002.1': 'TRK#1002.1' },
      message: 'Successfully received the tracking numbers',
      success: true,
    });
    assert.equal(
      (await webhooks.handle(callback('fetch_stock', `shop=${SHOP}&timestamp=${stamp}`, 'forged')))?.status,
      401,
    );
    assert.equal(
      (await webhooks.handle(callback('fetch_stock', `shop=${SHOP}&timestamp=${stamp - 3600}`)))?.status,
      400,
    );
    const post = new Request(`${APP_URL}/fulfillment/fetch_stock`, { method: 'POST', body: '{}' });
    assert.equal((await webhooks.handle(post))?.status, 405);
    assert.equal(await webhooks.handle(new Request(`${APP_URL}/fulfillment/unknown`)), null);
  });

  it('a failing function is answered 503 with Retry-After; an unserved callback 404', async () => {
    const errors: string[] = [];
    const { webhooks, clock } = inbox({
      onError: (_error, info) => void errors.push(info.topic),
      fulfillment: { fetchStock: () => Promise.reject(new Error('warehouse down')) },
    });
    const stamp = Math.floor(clock.now() / 1000);
    const failed = await webhooks.handle(callback('fetch_stock', `shop=${SHOP}&timestamp=${stamp}`));
    assert.equal(failed?.status, 503);
    assert.equal(failed?.headers.get('retry-after'), '5');
    assert.doesNotMatch((await failed?.text()) ?? '', /warehouse/);
    assert.deepEqual(errors, ['fetch_stock']);
    assert.equal(
      (await webhooks.handle(callback('fetch_tracking_numbers', `shop=${SHOP}&timestamp=${stamp}`)))?.status,
      404,
    );
  });
});
