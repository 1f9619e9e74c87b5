/**
 * Receiving a delivery: read the body (bounded), verify it, store it durably, answer. Nothing here
 * needs a token, and no handler runs before the answer, so Shopify's 5 seconds are spent on one
 * HMAC and one write whatever the handlers do or the shop's token is.
 */

import { ShoptokenError } from '../errors.ts';
import { verifyWebhook, type WebhookDelivery } from '../protocol/webhook.ts';
import { methodNotAllowed, text, type WebhookAnswer, type WebhookInbound } from './answer.ts';
import type { ResolvedWebhooks } from './options.ts';

/** What is sealed into the inbox: the delivery's fields and its raw body (its payload, exactly as signed). */
export interface StoredDelivery {
  topic: string;
  shop: string;
  webhookId: string;
  eventId: string | null;
  /** The `Triggered-At` header as sent. */
  triggeredAt: string | null;
  apiVersion: string | null;
  name: string | null;
  body: string;
}

const UTF8 = new TextDecoder();

function stored(delivery: WebhookDelivery): Omit<StoredDelivery, 'body'> {
  return {
    topic: delivery.topic,
    shop: delivery.shop,
    webhookId: delivery.webhookId,
    eventId: delivery.eventId,
    triggeredAt: delivery.triggeredAt?.raw ?? null,
    apiVersion: delivery.apiVersion,
    name: delivery.name,
  };
}

/**
 * Answers one request on the webhook path: the refusal's status (401, 400, 405, 413) with a reason
 * that quotes no input; 200 once the delivery is stored (or was already: a duplicate); 503 with
 * `Retry-After` when the store cannot be reached. `onStored` is called after a new delivery is written.
 */
export async function receiveDelivery(
  rt: ResolvedWebhooks,
  inbound: WebhookInbound,
  onStored: () => void,
): Promise<WebhookAnswer> {
  if (inbound.method !== 'POST') return methodNotAllowed('POST', 'webhooks are delivered with POST');
  const { body } = inbound;
  if (body === null) return text(413, `the body is larger than ${rt.maxBodyBytes} bytes`);
  const check = verifyWebhook(
    { method: inbound.method, headers: inbound.headers, body },
    { secrets: rt.secrets, maxBodyBytes: rt.maxBodyBytes },
  );
  if (!check.ok) return text(check.status, check.reason);
  return storeDelivery(rt, stored(check.delivery), body, onStored);
}

/**
 * Stores a verified delivery (its fields and raw `body`) and answers: 200 once written, or for a
 * duplicate; 503 with `Retry-After` when it cannot be written (Shopify sends it again).
 */
export async function storeDelivery(
  rt: ResolvedWebhooks,
  fields: Omit<StoredDelivery, 'body'>,
  body: Uint8Array,
  onStored: () => void,
): Promise<WebhookAnswer> {
  const now = rt.vault.now();
  try {
    const added = await rt.inbox.add({
      webhookId: fields.webhookId,
      shop: fields.shop,
      topic: fields.topic,
      json: JSON.stringify({ ...fields, body: UTF8.decode(body) } satisfies StoredDelivery),
      receivedAt: now,
      keepUntil: now + rt.dedupeWindowMs,
    });
    if (added) onStored();
    return text(200, added ? 'received' : 'duplicate');
  } catch (error) {
    // Not stored: Shopify must send it again. Any failure here is the store's (or ours), never the sender's.
    const storage = error instanceof ShoptokenError && error.code === 'ERR_STORAGE';
    return text(503, storage ? 'the webhook store is unavailable; retry later' : 'the delivery could not be stored', {
      'retry-after': '5',
    });
  }
}
