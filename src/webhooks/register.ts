/**
 * Registering with Shopify through the Admin API, for apps that do not declare it in
 * `shopify.app.toml`: webhook subscriptions (`webhookSubscriptionCreate`; TOML-managed ones are
 * deployed by Shopify CLI and survive reinstalls, API-created ones are deleted on uninstall, so
 * `afterAuth` is the place to call this) and the fulfillment service (`fulfillmentServiceCreate`;
 * `callbackUrl` optional since Admin API 2026-01).
 */

import type { TokenAwareAdminClient } from '../admin/admin.ts';
import { ShoptokenError } from '../errors.ts';

/** One subscription to create: a topic (`orders/create` or `ORDERS_CREATE`) and the URL to deliver to. */
export interface WebhookSubscriptionInput {
  topic: string;
  uri: string;
}

/** What Shopify answered for one subscription. */
export interface WebhookSubscriptionResult {
  topic: string;
  /** The subscription's id, or null when Shopify refused it (`errors` says why). */
  id: string | null;
  errors: string[];
}

/** `orders/create` → `ORDERS_CREATE` (the GraphQL enum); an enum value is kept. */
export function topicEnum(topic: string): string {
  return topic.replaceAll('/', '_').replaceAll('.', '_').replaceAll('-', '_').toUpperCase();
}

interface UserError {
  field?: string[] | null;
  message: string;
}

const SUBSCRIBE = `mutation shoptokenSubscribe($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri }) {
    webhookSubscription { id }
    userErrors { field message }
  }
}`;

function checkAnswer(errors: readonly { message: string }[], what: string): void {
  if (errors.length > 0) {
    const messages = errors.map((error) => error.message).join('; ');
    throw new ShoptokenError('ERR_UNEXPECTED_RESPONSE', `Shopify refused ${what}: ${messages}`);
  }
}

/**
 * Creates each subscription on the shop of `admin` (one request each, in order). Shopify's refusals
 * (a taken topic and URL, a missing scope) come back in `errors`; a failed request throws.
 *
 * @example
 * await registerWebhooks(vault.admin(shop), [{ topic: 'orders/create', uri: 'https://app.example.com/webhooks' }]);
 */
export async function registerWebhooks(
  admin: TokenAwareAdminClient,
  subscriptions: readonly WebhookSubscriptionInput[],
): Promise<WebhookSubscriptionResult[]> {
  const results: WebhookSubscriptionResult[] = [];
  for (const { topic, uri } of subscriptions) {
    const { data, errors } = await admin.request<{
      webhookSubscriptionCreate: { webhookSubscription: { id: string } | null; userErrors: UserError[] };
    }>(SUBSCRIBE, { variables: { topic: topicEnum(topic), uri } });
    checkAnswer(errors, `the subscription to ${topic}`);
    const created = data?.webhookSubscriptionCreate;
    results.push({
      topic,
      id: created?.webhookSubscription?.id ?? null,
      errors: created?.userErrors.map((e) => e.message) ?? ['no answer'],
    });
  }
  return results;
}

/** The fulfillment service to register. */
export interface FulfillmentServiceInput {
  /** The name merchants see. */
  name: string;
  /** Where Shopify sends notifications and stock/tracking queries: `appUrl + fulfillment path`. Optional since 2026-01. */
  callbackUrl?: string;
  /** Shopify asks `fetch_stock` for stock levels. */
  inventoryManagement?: boolean;
  /** Shopify asks `fetch_tracking_numbers` for tracking numbers. */
  trackingSupport?: boolean;
}

/** The registered service. */
export interface FulfillmentServiceResult {
  id: string | null;
  /** The service's location (where its inventory lives). */
  locationId: string | null;
  errors: string[];
}

const CREATE_SERVICE = `mutation shoptokenFulfillmentService($name: String!, $callbackUrl: URL, $inventoryManagement: Boolean, $trackingSupport: Boolean) {
  fulfillmentServiceCreate(name: $name, callbackUrl: $callbackUrl, inventoryManagement: $inventoryManagement, trackingSupport: $trackingSupport) {
    fulfillmentService { id location { id } }
    userErrors { field message }
  }
}`;

/**
 * Registers the app as a fulfillment service on the shop of `admin` (needs `write_fulfillments`).
 *
 * @example
 * await registerFulfillmentService(vault.admin(shop), { name: 'Acme Fulfillment', callbackUrl: `${appUrl}/fulfillment`,
 *   inventoryManagement: true, trackingSupport: true });
 */
export async function registerFulfillmentService(
  admin: TokenAwareAdminClient,
  service: FulfillmentServiceInput,
): Promise<FulfillmentServiceResult> {
  const { data, errors } = await admin.request<{
    fulfillmentServiceCreate: {
      fulfillmentService: { id: string; location: { id: string } | null } | null;
      userErrors: UserError[];
    };
  }>(CREATE_SERVICE, {
    variables: {
      name: service.name,
      callbackUrl: service.callbackUrl ?? null,
      inventoryManagement: service.inventoryManagement ?? false,
      trackingSupport: service.trackingSupport ?? false,
    },
  });
  checkAnswer(errors, 'the fulfillment service');
  const created = data?.fulfillmentServiceCreate;
  return {
    id: created?.fulfillmentService?.id ?? null,
    locationId: created?.fulfillmentService?.location?.id ?? null,
    errors: created?.userErrors.map((e) => e.message) ?? ['no answer'],
  };
}
