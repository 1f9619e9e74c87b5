/**
 * The webhook parser never throws and never accepts a delivery it should not: over random methods,
 * header sets of both families (valid, near-miss and junk values, conflicting pairs) and bodies
 * (JSON, junk bytes, oversized), with the HMAC sometimes computed with the app's secret over the
 * body. For every case: a result, never an exception; a refusal is 400, 401, 405 or 413 and quotes
 * no secret; an acceptance has a verifying HMAC for every HMAC header sent, a canonical shop, and
 * a body that is JSON. Runs `SHOPTOKEN_PROPERTY_RUNS` cases (default 1,000) from a fixed seed.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isShopDomain } from '../../src/protocol/shop.ts';
import { verifyWebhook } from '../../src/protocol/webhook.ts';
import { delivery, deliveryHeaders, RUNS, SECRET, SEED } from './webhook-arbitraries.ts';

describe('property: webhook deliveries', () => {
  it(`${RUNS} random deliveries: a clear refusal or a delivery that truly verified`, () => {
    const outcomes = new Map<number | 'accepted', number>();
    const count = (key: number | 'accepted') => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    fc.assert(
      fc.property(delivery, (d) => {
        const headers = deliveryHeaders(d);
        const bytes = new TextEncoder().encode(d.body);
        const result = verifyWebhook(
          { method: d.method, headers, body: bytes },
          { secrets: [SECRET], ...(d.maxBodyBytes === undefined ? {} : { maxBodyBytes: d.maxBodyBytes }) },
        );
        count(result.ok ? 'accepted' : result.status);
        if (!result.ok) {
          assert.ok([400, 401, 405, 413].includes(result.status), `status ${result.status}`);
          assert.ok(!result.reason.includes(SECRET));
          if (d.hmac !== 'valid' && d.families.length > 0 && d.method === 'POST') {
            assert.ok([401, 413].includes(result.status), `a bad HMAC is ${result.status}`);
          }
          return;
        }
        assert.equal(d.method, 'POST');
        assert.equal(d.hmac, 'valid');
        assert.ok(d.families.length > 0);
        assert.ok(isShopDomain(result.delivery.shop));
        assert.doesNotThrow(() => JSON.parse(d.body));
        assert.ok(d.maxBodyBytes === undefined || bytes.byteLength <= d.maxBodyBytes);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The cases reach every outcome, acceptance included (not only early refusals).
    if (RUNS >= 1000)
      for (const key of ['accepted', 400, 401, 405, 413] as const) assert.ok(outcomes.get(key), `${key}`);
  });
});
