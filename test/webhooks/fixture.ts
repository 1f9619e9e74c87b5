/**
 * A webhook inbox over a memory (or given) store with a controllable clock, and signed deliveries.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { signWebhookBody, type WebhookHeaderFamily } from '../../src/protocol/webhook.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { createWebhooks } from '../../src/webhooks/index.ts';
import type { Webhooks, WebhooksOptions } from '../../src/webhooks/types.ts';

export const SECRET = 'webhook-secret';
export const SHOP = 'cool-shop.myshopify.com';
export const APP_URL = 'https://app.example.com';

export interface Delivery {
  topic?: string;
  shop?: string;
  body?: string;
  webhookId?: string;
  eventId?: string;
  triggeredAt?: string;
  family?: WebhookHeaderFamily;
  secret?: string;
  path?: string;
  method?: string;
}

/** A delivery as Shopify sends it, signed with `secret`. */
export function deliveryRequest(delivery: Delivery = {}): Request {
  const body = delivery.body ?? JSON.stringify({ id: 1, name: '#1001' });
  const prefix = (delivery.family ?? 'x-shopify') === 'shopify' ? 'shopify-' : 'x-shopify-';
  const headers = {
    'content-type': 'application/json',
    [`${prefix}hmac-sha256`]: signWebhookBody(body, delivery.secret ?? SECRET),
    [`${prefix}topic`]: delivery.topic ?? 'orders/create',
    [`${prefix}shop-domain`]: delivery.shop ?? SHOP,
    [`${prefix}webhook-id`]: delivery.webhookId ?? randomUUID(),
    [`${prefix}event-id`]: delivery.eventId ?? randomUUID(),
    [`${prefix}triggered-at`]: delivery.triggeredAt ?? '2026-12-01T10:00:00.123456789Z',
    [`${prefix}api-version`]: '2026-10',
  };
  const method = delivery.method ?? 'POST';
  return new Request(`${APP_URL}${delivery.path ?? '/webhooks'}`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}

/** A clock tests move by hand (epoch ms). */
export function manualClock(start = Date.parse('2026-12-01T10:00:01Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (at: number) => (now = at) };
}

export interface Inbox {
  vault: Vault;
  webhooks: Webhooks;
  storage: TokenStorage;
  clock: ReturnType<typeof manualClock>;
}

/** A vault over `storage` (memory by default) and a webhook inbox with `options`. */
export function inbox(options: Partial<WebhooksOptions> = {}, storage: TokenStorage = createMemoryStorage()): Inbox {
  const clock = manualClock();
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: clock.now,
    shopifyBaseUrl: 'http://127.0.0.1:9/{shop}',
  });
  // Handler failures are the tests' to check: no warnings on stderr unless a test asks (onError: undefined).
  const webhooks = createWebhooks({
    apiSecret: SECRET,
    vault,
    retryDelayMs: 1000,
    onError: () => undefined,
    ...options,
  });
  return { vault, webhooks, storage, clock };
}

/** Saves a non-expiring offline token for `shop` (no Shopify needed to use it). */
export async function saveToken(vault: Vault, shop = SHOP, authorizedAt: Date | null = null): Promise<void> {
  await vault.saveOffline({
    shop,
    accessToken: `shpat_${randomUUID().replaceAll('-', '')}`,
    scopes: ['read_orders'],
    expiresAt: null,
    refreshToken: null,
    refreshTokenExpiresAt: null,
    authorizedAt,
  });
}
