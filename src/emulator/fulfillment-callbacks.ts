/**
 * What Shopify sends a fulfillment service (reference §8), under the service's `callbackUrl`:
 * `POST …/fulfillment_order_notification` (`{"kind":"FULFILLMENT_REQUEST"}` or
 * `{"kind":"CANCELLATION_REQUEST"}`, base64 HMAC of the raw body), and the GET callbacks
 * `…/fetch_stock.json` and `…/fetch_tracking_numbers.json`, whose `X-Shopify-Hmac-Sha256` is the
 * base64 HMAC of the raw query string exactly as sent — no decoding, no sorting. The `sku` of
 * `fetch_stock` comes last, out of alphabetical order, so a verifier that sorts fails here as it
 * would against Shopify.
 */

import { signWebhookBody } from '../protocol/webhook.ts';
import type { FulfillmentServiceRecord } from './fulfillment-store.ts';
import type { OutboundOutcome, OutboundRequest } from './outbound.ts';
import type { EmulatorState } from './state.ts';

/** The app's answer to a callback. */
export interface CallbackResult {
  /** The URL called, query included. */
  url: string;
  /** The HTTP status answered; `null` after a timeout or a network error. */
  status: number | null;
  outcome: OutboundOutcome;
  /** The answer's body parsed as JSON; `null` when there is none or it is not JSON. */
  body: unknown;
}

/** The input of `emulator.requestFulfillment`. */
export interface FulfillmentRequestInput {
  lineItems: { sku: string; quantity: number }[];
  /** Default the shop's next order name (`#1004`, …). */
  orderName?: string;
  /** The service's handle; default the app's first service on the shop. */
  service?: string;
}

/** What a fulfillment request created, and how the app answered its notification. */
export interface FulfillmentRequestResult {
  orderId: string;
  orderName: string;
  fulfillmentOrderId: string;
  /** `null` when the service has no `callbackUrl` (it then polls `assignedFulfillmentOrders`). */
  notification: CallbackResult | null;
}

const parsed = (text: string | null): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};

const under = (service: FulfillmentServiceRecord, path: string) =>
  `${service.callbackUrl!.replace(/\/+$/, '')}/${path}`;

async function call(state: EmulatorState, request: OutboundRequest): Promise<CallbackResult> {
  const result = await state.sendToApp(request);
  return { url: request.url, status: result.status, outcome: result.outcome, body: parsed(result.body) };
}

/** `POST {callbackUrl}/fulfillment_order_notification` with `{"kind": kind}`; `null` without a callbackUrl. */
export function notifyService(
  state: EmulatorState,
  service: FulfillmentServiceRecord,
  kind: 'FULFILLMENT_REQUEST' | 'CANCELLATION_REQUEST',
): Promise<CallbackResult> | null {
  if (service.callbackUrl === null) return null;
  const body = Buffer.from(JSON.stringify({ kind }), 'utf8');
  const secret = state.apps.get(service.clientId)!.clientSecret;
  const headers = {
    'Content-Type': 'application/json',
    'X-Shopify-Hmac-Sha256': signWebhookBody(body, secret),
    'X-Shopify-Shop-Domain': service.shop,
  };
  return call(state, { method: 'POST', url: under(service, 'fulfillment_order_notification'), headers, body });
}

/**
 * `GET {callbackUrl}/{path}?{query}&shop=…&timestamp=…` (then `tail`), signed over that raw query.
 * `query` and `tail` are already encoded.
 */
export function getCallback(
  state: EmulatorState,
  service: FulfillmentServiceRecord,
  path: 'fetch_stock.json' | 'fetch_tracking_numbers.json',
  query: string,
  tail = '',
): Promise<CallbackResult> {
  const timestamp = Math.floor(state.now() / 1000);
  const raw = `${query}&shop=${encodeURIComponent(service.shop)}&timestamp=${timestamp}${tail}`;
  const secret = state.apps.get(service.clientId)!.clientSecret;
  const headers = { Accept: 'application/json', 'X-Shopify-Hmac-Sha256': signWebhookBody(raw, secret) };
  return call(state, { method: 'GET', url: `${under(service, path)}?${raw}`, headers });
}

/** `fetch_stock.json`: `max_retries=3&shop=…&timestamp=…`, then `&sku=…` for one SKU. */
export function fetchStockCallback(state: EmulatorState, service: FulfillmentServiceRecord, sku?: string) {
  const tail = sku === undefined ? '' : `&sku=${encodeURIComponent(sku)}`;
  return getCallback(state, service, 'fetch_stock.json', 'max_retries=3', tail);
}

/** `fetch_tracking_numbers.json`: `order_names[]=…` per order (`#` encoded), then `shop` and `timestamp`. */
export function fetchTrackingCallback(state: EmulatorState, service: FulfillmentServiceRecord, orderNames: string[]) {
  const query = orderNames.map((name) => `order_names[]=${encodeURIComponent(name)}`).join('&');
  return getCallback(state, service, 'fetch_tracking_numbers.json', query);
}
