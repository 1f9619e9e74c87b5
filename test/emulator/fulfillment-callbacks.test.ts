/**
 * The GET callbacks Shopify makes to a fulfillment service (reference §8), `fetch_stock.json` and
 * `fetch_tracking_numbers.json`: the query as Shopify builds it, the `X-Shopify-Hmac-Sha256` over
 * the raw query string exactly as sent — recomputed here from what the receiver got, and shown to
 * differ from the decoded or sorted forms — and the app's JSON answer handed back.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { signWebhookBody } from '../../src/protocol/webhook.ts';
import { STOCK, serviceSetup, TRACKING, withService } from './fulfillment-helpers.ts';
import { APP, SHOP } from './helpers.ts';
import { header, type Received, rawQuery } from './receiver.ts';
import { T0 } from './webhook-helpers.ts';

/** The HMAC the app must compute: over the raw query string as received. Returns that string. */
function assertSignedOverRawQuery(received: Received): string {
  const raw = rawQuery(received);
  assert.equal(header(received, 'x-shopify-hmac-sha256'), signWebhookBody(raw, APP.clientSecret));
  return raw;
}

describe('fetch_stock and fetch_tracking_numbers', () => {
  it('GET fetch_stock.json with and without sku, signed over the raw query; answers the app’s JSON', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      await withService(emulator, token, callbackUrl);
      const timestamp = T0 / 1000;
      const all = await emulator.fetchStock(SHOP, APP.clientId);
      assert.deepEqual(all, {
        url: `${callbackUrl}/fetch_stock.json?max_retries=3&shop=${SHOP}&timestamp=${timestamp}`,
        status: 200,
        outcome: 'ok',
        body: STOCK,
      });
      const one = await emulator.fetchStock(SHOP, APP.clientId, { sku: 'SKU 1/ü' });
      assert.deepEqual(one.body, STOCK);
      const [first, second] = receiver.received;
      assert.equal(first!.method, 'GET');
      assert.equal(first!.url.split('?')[0], '/fs/fetch_stock.json');
      assert.equal(assertSignedOverRawQuery(first!), `max_retries=3&shop=${SHOP}&timestamp=${timestamp}`);
      const raw = assertSignedOverRawQuery(second!);
      assert.equal(raw, `max_retries=3&shop=${SHOP}&timestamp=${timestamp}&sku=SKU%201%2F%C3%BC`);
      // Neither the decoded nor the sorted query carries the signature: only the raw one does.
      const decoded = decodeURIComponent(raw);
      const sorted = [...new URLSearchParams(raw)]
        .sort(([a], [b]) => a.localeCompare(b))
        .map((pair) => pair.join('='))
        .join('&');
      for (const other of [decoded, sorted]) {
        assert.notEqual(header(second!, 'x-shopify-hmac-sha256'), signWebhookBody(other, APP.clientSecret));
      }
    } finally {
      await receiver.close();
    }
  });

  it('GET fetch_tracking_numbers.json with order_names[], signed over the raw query', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      await withService(emulator, token, callbackUrl);
      const result = await emulator.fetchTrackingNumbers(SHOP, APP.clientId, ['#1001.1', '#1002.1']);
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, TRACKING);
      const [received] = receiver.received;
      assert.equal(received!.url.split('?')[0], '/fs/fetch_tracking_numbers.json');
      assert.equal(
        assertSignedOverRawQuery(received!),
        `order_names[]=%231001.1&order_names[]=%231002.1&shop=${SHOP}&timestamp=${T0 / 1000}`,
      );
      await assert.rejects(emulator.fetchTrackingNumbers(SHOP, APP.clientId, []), ConfigError);
    } finally {
      await receiver.close();
    }
  });

  it('a slow or failing service is reported, not thrown', async () => {
    const { emulator, receiver, token } = await serviceSetup();
    try {
      await withService(emulator, token, 'http://127.0.0.1:9/fs');
      const result = await emulator.fetchStock(SHOP, APP.clientId);
      assert.deepEqual(
        { ...result, url: undefined },
        { url: undefined, status: null, outcome: 'network-error', body: null },
      );
    } finally {
      await receiver.close();
    }
  });
});
