/**
 * Shopify's calls to a fulfillment service's callback URL (shopify-protocol §8), pure:
 * - `POST {callback}/fulfillment_order_notification`: a JSON body (`{"kind":"FULFILLMENT_REQUEST"}`
 *   or `CANCELLATION_REQUEST`) signed like a webhook (base64 HMAC of the raw body in
 *   `X-Shopify-Hmac-Sha256`), the shop in `X-Shopify-Shop-Domain`;
 * - `GET {callback}/fetch_stock(.json)` and `GET {callback}/fetch_tracking_numbers(.json)`: a query
 *   with `shop` and `timestamp`, signed in the `X-Shopify-Hmac-Sha256` header.
 *
 * The GET signature is not documented. Observed: base64 HMAC-SHA256 of the raw query string as
 * received (not decoded, not sorted); an older account says the sorted form. Both are accepted
 * (raw first), and the `timestamp` must be fresh, so a captured URL cannot be replayed for long.
 * Shopify's own JS library answers these GETs 405; shoptoken serves them.
 */

import { querySignatureMessage } from './hmac.ts';
import { normalizeShop } from './shop.ts';
import { base64HmacMatches, type HeaderSource, headerValue } from './webhook.ts';

/** The three callbacks. */
export type FulfillmentCallback = 'fulfillment_order_notification' | 'fetch_stock' | 'fetch_tracking_numbers';

/** The callback `pathname` is under `prefix` (`.json` accepted on the GET ones), or null. */
export function fulfillmentCallbackOf(pathname: string, prefix: string): FulfillmentCallback | null {
  const base = prefix === '/' ? '' : prefix;
  if (!pathname.startsWith(`${base}/`)) return null;
  const name = pathname.slice(base.length + 1);
  if (name === 'fulfillment_order_notification') return name;
  const bare = name.endsWith('.json') ? name.slice(0, -5) : name;
  return bare === 'fetch_stock' || bare === 'fetch_tracking_numbers' ? bare : null;
}

/** A refusal, with the status to answer; quotes no input. */
export interface CallbackRefusal {
  ok: false;
  status: 400 | 401 | 405 | 413;
  reason: string;
}

const HMAC_HEADER = 'x-shopify-hmac-sha256';
const SHOP_HEADER = 'x-shopify-shop-domain';
const refuse = (status: CallbackRefusal['status'], reason: string): CallbackRefusal => ({ ok: false, status, reason });

/** The base64 HMAC Shopify sends for a callback query string (raw, without `?`). For the emulator and tests. */
export { signWebhookBody as signFulfillmentQuery } from './webhook.ts';

/** A verified GET callback. */
export interface FulfillmentQuery {
  ok: true;
  shop: string;
  /** When Shopify sent it (epoch seconds). */
  timestamp: number;
  params: URLSearchParams;
  /** Which form the signature covered. */
  form: 'raw' | 'sorted';
}

/** Options of {@link verifyFulfillmentQuery}. */
export interface VerifyFulfillmentQueryOptions {
  secrets: readonly string[];
  /** The verifier's clock, epoch ms. */
  now: number;
  /** How old `timestamp` may be, seconds; default 300 (and at most 60 s ahead of `now`). */
  maxAgeSeconds?: number;
}

/**
 * Checks a GET callback: its `X-Shopify-Hmac-Sha256` header over the raw query (then the sorted
 * form), a fresh `timestamp`, and a canonical `shop`. 401 for a missing or wrong signature, 400
 * for a stale or missing timestamp or a bad shop. Never throws for bad input.
 *
 * @example
 * const check = verifyFulfillmentQuery(new URL(request.url).search.slice(1), request.headers, { secrets, now: Date.now() });
 */
export function verifyFulfillmentQuery(
  rawQuery: string,
  headers: HeaderSource,
  options: VerifyFulfillmentQueryOptions,
): FulfillmentQuery | CallbackRefusal {
  const hmac = headerValue(headers, HMAC_HEADER);
  if (hmac === undefined) return refuse(401, 'the callback carries no HMAC header');
  const query = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  if (query.length > 8192) return refuse(413, 'the query string is too long');
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return refuse(400, 'the query string is malformed');
  }
  let form: FulfillmentQuery['form'] | null = null;
  if (base64HmacMatches(hmac, query, options.secrets)) form = 'raw';
  else if (base64HmacMatches(hmac, querySignatureMessage(params), options.secrets)) form = 'sorted';
  if (form === null) return refuse(401, 'the HMAC does not match the query');
  const stamp = params.get('timestamp');
  const timestamp = stamp !== null && /^\d{1,12}$/.test(stamp) ? Number(stamp) : NaN;
  if (!Number.isSafeInteger(timestamp)) return refuse(400, 'the timestamp is missing or malformed');
  const age = options.now / 1000 - timestamp;
  if (age > (options.maxAgeSeconds ?? 300) || age < -60) return refuse(400, 'the timestamp is not recent');
  const shop = normalizeShop(params.get('shop') ?? undefined);
  if (!shop) return refuse(400, 'the shop is missing or not a {name}.myshopify.com domain');
  return { ok: true, shop, timestamp, params, form };
}

/** The kinds of merchant request a notification announces. */
export type FulfillmentRequestKind = 'FULFILLMENT_REQUEST' | 'CANCELLATION_REQUEST';

/** A verified notification. */
export interface FulfillmentNotification {
  ok: true;
  shop: string;
  kind: FulfillmentRequestKind;
  payload: Record<string, unknown>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a `fulfillment_order_notification`: POST, size, the HMAC of the raw body (401), the shop
 * header and a JSON object body whose `kind` is a known request kind (400).
 */
export function verifyFulfillmentNotification(
  request: { method: string; headers: HeaderSource; body: Uint8Array },
  options: { secrets: readonly string[]; maxBodyBytes?: number },
): FulfillmentNotification | CallbackRefusal {
  if (request.method !== 'POST') return refuse(405, 'notifications are sent with POST');
  if (request.body.byteLength > (options.maxBodyBytes ?? 1024 * 1024)) return refuse(413, 'the body is too large');
  const hmac = headerValue(request.headers, HMAC_HEADER);
  if (hmac === undefined) return refuse(401, 'the notification carries no HMAC header');
  if (!base64HmacMatches(hmac, request.body, options.secrets)) return refuse(401, 'the HMAC does not match the body');
  const domain = headerValue(request.headers, SHOP_HEADER);
  const shop = normalizeShop(domain);
  if (!shop || shop !== domain?.toLowerCase()) return refuse(400, 'the shop domain header is missing or malformed');
  let payload: unknown;
  try {
    payload = JSON.parse(UTF8.decode(request.body));
  } catch {
    return refuse(400, 'the body is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return refuse(400, 'the body is not a JSON object');
  }
  const kind = (payload as { kind?: unknown }).kind;
  if (kind !== 'FULFILLMENT_REQUEST' && kind !== 'CANCELLATION_REQUEST') {
    return refuse(400, 'the kind is not FULFILLMENT_REQUEST or CANCELLATION_REQUEST');
  }
  return { ok: true, shop, kind, payload: payload as Record<string, unknown> };
}
