/**
 * Fulfillment-service callbacks over random requests: methods, paths under the callback prefix,
 * query strings (valid, near-miss and junk; signed raw, signed sorted, signed with another secret
 * or not at all; fresh and stale timestamps) and notification bodies. Never an exception or a 5xx;
 * a refusal stores nothing; no answer quotes the secret.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { querySignatureMessage } from '../../src/protocol/hmac.ts';
import { signWebhookBody } from '../../src/protocol/webhook.ts';
import { APP_URL, inbox } from '../webhooks/fixture.ts';
import { RUNS, SECRET, SEED } from './webhook-arbitraries.ts';

const junk = fc.string({ unit: 'binary-ascii', maxLength: 40 });
const param = fc.oneof(
  fc.constantFrom(
    'shop=cool-shop.myshopify.com',
    'shop=evil.com',
    'sku=A%201',
    'max_retries=3',
    'order_names[]=%231001.1',
  ),
  fc.constantFrom('timestamp=FRESH', 'timestamp=STALE', 'timestamp=abc', 'timestamp='),
  junk.map((s) => encodeURIComponent(s)),
  junk,
);

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT'),
  name: fc.constantFrom(
    'fetch_stock',
    'fetch_stock.json',
    'fetch_tracking_numbers',
    'fulfillment_order_notification',
    'x',
  ),
  // Random parameters, or a well-formed query (a shop and a fresh timestamp) with random extras.
  params: fc.oneof(
    fc.array(param, { maxLength: 6 }),
    fc
      .tuple(fc.array(param, { maxLength: 2 }), fc.array(param, { maxLength: 2 }))
      .map(([before, after]) => [...before, 'shop=cool-shop.myshopify.com', 'timestamp=FRESH', ...after]),
  ),
  body: fc.oneof(
    fc.constantFrom('{"kind":"FULFILLMENT_REQUEST"}', '{"kind":"CANCELLATION_REQUEST"}', '{"kind":1}'),
    junk,
  ),
  signature: fc.constantFrom('raw', 'sorted', 'other-secret', 'junk', 'none'),
  shopHeader: fc.constantFrom('cool-shop.myshopify.com', 'evil.com', ''),
});

describe('property: fulfillment callbacks', () => {
  it(`${Math.min(RUNS, 500)} random callbacks: a 2xx or a clear 4xx, nothing stored unless accepted`, async () => {
    const { webhooks, vault, clock } = inbox({
      apiSecret: SECRET,
      fulfillment: {
        onNotification: () => undefined,
        fetchStock: ({ sku }) => ({ [sku ?? 'all']: 1 }),
        fetchTrackingNumbers: ({ orderNames }) => Object.fromEntries(orderNames.map((n) => [n, 'T'])),
      },
    });
    const now = Math.floor(clock.now() / 1000);
    const stored = async () => (await vault.webhookInbox()?.list({ limit: 10_000 }))?.length ?? 0;
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const query = r.params
          .join('&')
          .replace('timestamp=FRESH', `timestamp=${now}`)
          .replace('timestamp=STALE', `timestamp=${now - 3600}`);
        const signedOver = r.method === 'POST' ? r.body : query;
        const headers = new Headers();
        const hmac = {
          raw: signWebhookBody(signedOver, SECRET),
          sorted: signWebhookBody(querySignatureMessage(new URLSearchParams(query)), SECRET),
          'other-secret': signWebhookBody(signedOver, 'not-the-secret'),
          junk: 'abc',
          none: null,
        }[r.signature];
        if (hmac !== null) headers.set('x-shopify-hmac-sha256', hmac);
        if (r.shopHeader) headers.set('x-shopify-shop-domain', r.shopHeader);
        let url: string;
        try {
          url = new URL(`${APP_URL}/fulfillment/${r.name}?${query}`).toString();
        } catch {
          return;
        }
        const before = await stored();
        const response = await webhooks.handle(
          new Request(url, {
            method: r.method,
            headers,
            ...(r.method === 'POST' || r.method === 'PUT' ? { body: r.body } : {}),
          }),
        );
        if (r.name === 'x') {
          assert.equal(response, null);
          return;
        }
        assert.ok(response);
        statuses.add(response.status);
        assert.ok(response.status < 500, `status ${response.status}`);
        assert.ok(!(await response.text()).includes(SECRET));
        if (response.status !== 200 || r.method !== 'POST') assert.equal(await stored(), before);
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 500) },
    );
    for (const status of [200, 400, 401, 405]) assert.ok(statuses.has(status), `${status} of ${[...statuses]}`);
  });
});
