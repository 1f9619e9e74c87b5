/**
 * Fulfillment-service callbacks (shopify-protocol §8): the GET query signed over the raw query
 * string (observed) or its sorted form (an older account), a fresh timestamp and a canonical shop;
 * the POST notification signed over its raw body. Each refusal separately.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fulfillmentCallbackOf,
  signFulfillmentQuery,
  verifyFulfillmentNotification,
  verifyFulfillmentQuery,
} from '../../src/protocol/fulfillment-callback.ts';
import { querySignatureMessage } from '../../src/protocol/hmac.ts';
import { signWebhookBody } from '../../src/protocol/webhook.ts';

const SECRET = 'fulfillment-secret';
const NOW = Date.parse('2026-12-01T10:00:00Z');
const STAMP = String(NOW / 1000);
const SHOP = 'cool-shop.myshopify.com';

const signed = (query: string, hmac = signFulfillmentQuery(query, SECRET)) =>
  verifyFulfillmentQuery(query, new Headers({ 'x-shopify-hmac-sha256': hmac }), { secrets: [SECRET], now: NOW });

describe('fulfillment callbacks: GET queries', () => {
  it('accepts the raw query string as received (encoding and order kept)', () => {
    const query = `max_retries=3&shop=${SHOP}&timestamp=${STAMP}&sku=AB%2012`;
    const result = signed(query);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.deepEqual([result.shop, result.form, result.params.get('sku')], [SHOP, 'raw', 'AB 12']);
  });

  it('accepts the sorted form (an older account of the signature)', () => {
    const query = `timestamp=${STAMP}&shop=${SHOP}&order_names[]=%231001.1`;
    const sorted = querySignatureMessage(new URLSearchParams(query));
    const result = signed(query, signWebhookBody(sorted, SECRET));
    assert.equal(result.ok && result.form, 'sorted');
  });

  it('refuses each bad query with its status', () => {
    const good = `shop=${SHOP}&timestamp=${STAMP}`;
    const cases: [ReturnType<typeof signed>, number, RegExp][] = [
      [verifyFulfillmentQuery(good, new Headers(), { secrets: [SECRET], now: NOW }), 401, /no HMAC/],
      [signed(good, signFulfillmentQuery(good, 'other')), 401, /does not match/],
      [signed(`${good}&x=1`, signFulfillmentQuery(good, SECRET)), 401, /does not match/],
      [signed(`shop=${SHOP}`), 400, /timestamp/],
      [signed(`shop=${SHOP}&timestamp=${Number(STAMP) - 301}`), 400, /not recent/],
      [signed(`shop=${SHOP}&timestamp=${Number(STAMP) + 61}`), 400, /not recent/],
      [signed(`shop=evil.example.com&timestamp=${STAMP}`), 400, /shop/],
      [signed(`timestamp=${STAMP}`), 400, /shop/],
    ];
    for (const [result, status, reason] of cases) {
      assert.equal(result.ok, false);
      if (result.ok) continue;
      assert.equal(result.status, status, result.reason);
      assert.match(result.reason, reason);
    }
  });

  it('routes the callback paths, with and without .json', () => {
    assert.equal(fulfillmentCallbackOf('/fulfillment/fetch_stock.json', '/fulfillment'), 'fetch_stock');
    assert.equal(
      fulfillmentCallbackOf('/fulfillment/fetch_tracking_numbers', '/fulfillment'),
      'fetch_tracking_numbers',
    );
    assert.equal(
      fulfillmentCallbackOf('/fulfillment/fulfillment_order_notification', '/fulfillment'),
      'fulfillment_order_notification',
    );
    assert.equal(fulfillmentCallbackOf('/fulfillment/fulfillment_order_notification.json', '/fulfillment'), null);
    assert.equal(fulfillmentCallbackOf('/fulfillment/other', '/fulfillment'), null);
    assert.equal(fulfillmentCallbackOf('/fulfillmentx/fetch_stock', '/fulfillment'), null);
  });
});

describe('fulfillment callbacks: notifications', () => {
  const notify = (body: string, headers: Record<string, string> = {}, method = 'POST') =>
    verifyFulfillmentNotification(
      {
        method,
        headers: new Headers({
          'x-shopify-hmac-sha256': signWebhookBody(body, SECRET),
          'x-shopify-shop-domain': SHOP,
          ...headers,
        }),
        body: new TextEncoder().encode(body),
      },
      { secrets: [SECRET] },
    );

  it('accepts both kinds, signed over the raw body', () => {
    for (const kind of ['FULFILLMENT_REQUEST', 'CANCELLATION_REQUEST']) {
      const result = notify(JSON.stringify({ kind }));
      assert.equal(result.ok && result.kind, kind);
    }
  });

  it('refuses a wrong method, HMAC, shop, body or kind', () => {
    const body = '{"kind":"FULFILLMENT_REQUEST"}';
    const cases: [ReturnType<typeof notify>, number][] = [
      [notify(body, {}, 'GET'), 405],
      [notify(body, { 'x-shopify-hmac-sha256': signWebhookBody(`${body} `, SECRET) }), 401],
      [notify(body, { 'x-shopify-shop-domain': 'evil.example.com' }), 400],
      [notify('not json'), 400],
      [notify('["FULFILLMENT_REQUEST"]'), 400],
      [notify('{"kind":"SOMETHING_ELSE"}'), 400],
    ];
    for (const [result, status] of cases) assert.equal(!result.ok && result.status, status);
  });
});
