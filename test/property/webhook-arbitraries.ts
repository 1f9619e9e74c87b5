/**
 * Random webhook deliveries for the property tests: methods, header sets of both families (valid,
 * near-miss and junk values, conflicting pairs) and bodies (JSON, junk bytes, oversized), with the
 * HMAC sometimes computed with the app's secret over the body.
 */

import fc from 'fast-check';
import { signWebhookBody } from '../../src/protocol/webhook.ts';

export const SEED = Number(process.env.SHOPTOKEN_PROPERTY_SEED ?? 20_261_202);
export const RUNS = Number(process.env.SHOPTOKEN_PROPERTY_RUNS ?? 1000);
export const SECRET = 'property-webhook-secret';
export const FIELDS = ['topic', 'shop-domain', 'webhook-id', 'event-id', 'triggered-at', 'api-version', 'name'];

const headerText = fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[\0\r\n]/g, '').trim());
/** Mostly well-formed values (so some deliveries verify end to end), near misses, and junk. */
const plausible = (good: fc.Arbitrary<string>, nearMisses: string[]) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: fc.constantFrom(...nearMisses), weight: 1 }, headerText);
const fieldValue: Record<string, fc.Arbitrary<string>> = {
  topic: plausible(fc.constantFrom('app/uninstalled', 'shop/redact', 'orders/create'), ['a//b', '/x', 'a b']),
  'shop-domain': plausible(fc.constantFrom('cool-shop.myshopify.com', 'COOL-shop.myshopify.com'), [
    'evil.com',
    'https://a.myshopify.com',
  ]),
  'webhook-id': plausible(fc.uuid(), ['a b', 'a,b']),
  'event-id': plausible(fc.uuid(), ['a b', 'a,b']),
  'triggered-at': plausible(fc.constantFrom('2026-05-11T15:06:59.110521905Z', '2026-05-11T15:06:59+01:00'), [
    '2026-02-30T00:00:00Z',
  ]),
  'api-version': plausible(fc.constantFrom('2026-01', 'unstable'), ['26-01']),
  name: plausible(fc.constantFrom('orders sync'), ['a\tb']),
};

const body = fc.oneof(
  { arbitrary: fc.json({ maxDepth: 3 }), weight: 4 },
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.integer({ min: 2000, max: 5000 }).map((n) => `"${'a'.repeat(n)}"`),
);

export const delivery = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'post', 'OPTIONS'),
  body,
  families: fc.subarray(['shopify-', 'x-shopify-'], { minLength: 0 }),
  fields: fc.record(Object.fromEntries(FIELDS.map((field) => [field, fc.constantFrom(true, true, true, true, false)]))),
  values: fc.record(fieldValue),
  conflict: fc.option(fc.constantFrom(...FIELDS)),
  hmac: fc.constantFrom('valid', 'valid', 'valid', 'other-secret', 'other-body', 'junk', 'missing'),
  maxBodyBytes: fc.constantFrom(undefined, 1000),
});

export type RandomDelivery = typeof delivery extends fc.Arbitrary<infer T> ? T : never;

/** The headers of `d`: its fields in each of its families, its HMAC, and a conflicting value if any. */
export function deliveryHeaders(d: RandomDelivery): Headers {
  const headers = new Headers();
  for (const prefix of d.families) {
    for (const field of FIELDS.filter((name) => d.fields[name])) {
      try {
        headers.set(`${prefix}${field}`, d.values[field as keyof typeof d.values] ?? '');
      } catch {
        // A value Headers refuses cannot be sent either.
      }
    }
    const hmac = {
      valid: signWebhookBody(d.body, SECRET),
      'other-secret': signWebhookBody(d.body, 'not-the-secret'),
      'other-body': signWebhookBody(`${d.body}x`, SECRET),
      junk: 'abc',
      missing: null,
    }[d.hmac];
    if (hmac !== null) headers.set(`${prefix}hmac-sha256`, hmac);
  }
  if (d.conflict !== null && d.families.length === 2) headers.set(`x-shopify-${d.conflict}`, 'different');
  return headers;
}
