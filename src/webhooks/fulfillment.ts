/**
 * A fulfillment service's callbacks (shopify-protocol §8). A notification is verified, stored in
 * the inbox like a webhook (under a fresh id: Shopify sends none) and acknowledged; the worker runs
 * `onNotification` with the shop's Admin client. `fetch_stock` and `fetch_tracking_numbers` are
 * answered at once: the query's signature and freshness are checked, then the app's function gives
 * the numbers. A failing function is answered 503 (Shopify retries: `max_retries`), never 500.
 */

import { randomUUID } from 'node:crypto';
import {
  type FulfillmentCallback,
  verifyFulfillmentNotification,
  verifyFulfillmentQuery,
} from '../protocol/fulfillment-callback.ts';
import { json, methodNotAllowed, text, type WebhookAnswer, type WebhookInbound } from './answer.ts';
import type { ResolvedWebhooks } from './options.ts';
import { storeDelivery } from './receive.ts';
import { shopAdmin } from './shop-admin.ts';

/** The topic notifications are stored under in the inbox. */
export const FULFILLMENT_TOPIC = 'fulfillment_orders/notification';

type QueryCallback = Exclude<FulfillmentCallback, 'fulfillment_order_notification'>;

async function notification(rt: ResolvedWebhooks, inbound: WebhookInbound, onStored: () => void) {
  if (inbound.method !== 'POST') return methodNotAllowed('POST', 'notifications are sent with POST');
  const { body } = inbound;
  if (body === null) return text(413, `the body is larger than ${rt.maxBodyBytes} bytes`);
  const check = verifyFulfillmentNotification(
    { method: inbound.method, headers: inbound.headers, body },
    { secrets: rt.secrets, maxBodyBytes: rt.maxBodyBytes },
  );
  if (!check.ok) return text(check.status, check.reason);
  const fields = { topic: FULFILLMENT_TOPIC, shop: check.shop, webhookId: `fulfillment-${randomUUID()}` };
  const empty = { eventId: null, triggeredAt: null, apiVersion: null, name: null };
  return storeDelivery(rt, { ...fields, ...empty }, body, onStored);
}

async function query(rt: ResolvedWebhooks, inbound: WebhookInbound, callback: QueryCallback): Promise<WebhookAnswer> {
  if (inbound.method !== 'GET' && inbound.method !== 'HEAD') {
    return methodNotAllowed('GET, HEAD', 'callbacks are sent with GET');
  }
  const raw = inbound.search.startsWith('?') ? inbound.search.slice(1) : inbound.search;
  const check = verifyFulfillmentQuery(raw, inbound.headers, { secrets: rt.secrets, now: rt.vault.now() });
  if (!check.ok) return text(check.status, check.reason);
  const fetchStock = rt.fulfillment?.fetchStock;
  const fetchTracking = rt.fulfillment?.fetchTrackingNumbers;
  if (!(callback === 'fetch_stock' ? fetchStock : fetchTracking)) {
    return text(404, `this fulfillment service does not answer ${callback}`);
  }
  if (inbound.method === 'HEAD') return text(200, '');
  const ctx = { shop: check.shop, params: check.params, ...(await shopAdmin(rt.vault, check.shop)) };
  try {
    if (fetchStock && callback === 'fetch_stock')
      return json(await fetchStock({ ...ctx, sku: check.params.get('sku') }));
    const orderNames = [...check.params.getAll('order_names[]'), ...check.params.getAll('order_names')];
    const numbers = await fetchTracking!({ ...ctx, orderNames });
    return json({ tracking_numbers: numbers, message: 'Successfully received the tracking numbers', success: true });
  } catch (error) {
    rt.onError(error, { topic: callback, shop: check.shop, webhookId: '', attempt: 1 });
    return text(503, `the ${callback} answer could not be computed; retry later`, { 'retry-after': '5' });
  }
}

/** Answers a request on the fulfillment callback `callback`. */
export function handleFulfillment(
  rt: ResolvedWebhooks,
  inbound: WebhookInbound,
  callback: FulfillmentCallback,
  onStored: () => void,
): Promise<WebhookAnswer> {
  return callback === 'fulfillment_order_notification'
    ? notification(rt, inbound, onStored)
    : query(rt, inbound, callback);
}
