/**
 * The headers of a webhook delivery (reference §6.1), in the classic `X-Shopify-*` family, the
 * newer `shopify-*` one, or both with the same values.
 */

import { signWebhookBody } from '../protocol/webhook.ts';
import type { EmulatorWebhookHeaders } from './webhook-config.ts';

/** What the headers say about one delivery. */
export interface DeliveryFields {
  topic: string;
  shop: string;
  apiVersion: string;
  webhookId: string;
  eventId: string;
  /** The `Triggered-At` value, as {@link triggeredAtHeader} made it. */
  triggeredAt: string;
}

/** Header names by field, as Shopify spells them. */
const NAMES: Record<'x-shopify' | 'shopify', Record<keyof DeliveryFields | 'hmac', string>> = {
  'x-shopify': {
    topic: 'X-Shopify-Topic',
    hmac: 'X-Shopify-Hmac-Sha256',
    shop: 'X-Shopify-Shop-Domain',
    apiVersion: 'X-Shopify-API-Version',
    webhookId: 'X-Shopify-Webhook-Id',
    eventId: 'X-Shopify-Event-Id',
    triggeredAt: 'X-Shopify-Triggered-At',
  },
  shopify: {
    topic: 'shopify-topic',
    hmac: 'shopify-hmac-sha256',
    shop: 'shopify-shop-domain',
    apiVersion: 'shopify-api-version',
    webhookId: 'shopify-webhook-id',
    eventId: 'shopify-event-id',
    triggeredAt: 'shopify-triggered-at',
  },
};

/**
 * `ms` (ms since epoch) as Shopify writes `X-Shopify-Triggered-At`: RFC 3339, UTC, 9 fraction digits.
 *
 * @example
 * triggeredAtHeader(Date.UTC(2026, 9, 1, 12)); // '2026-10-01T12:00:00.000000000Z'
 */
export function triggeredAtHeader(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * Every header of a delivery of `body`, signed with `secret` (base64 HMAC-SHA256 of the exact bytes
 * sent), in `family`; `Content-Type: application/json` too.
 */
export function deliveryHeaders(
  family: EmulatorWebhookHeaders,
  fields: DeliveryFields,
  body: Uint8Array,
  secret: string,
): Record<string, string> {
  const values = { ...fields, hmac: signWebhookBody(body, secret) };
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const families = family === 'both' ? (['x-shopify', 'shopify'] as const) : [family];
  for (const name of families) {
    for (const [field, header] of Object.entries(NAMES[name])) headers[header] = values[field as keyof typeof values];
  }
  return headers;
}
