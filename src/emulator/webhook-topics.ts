/**
 * Webhook topics: the `a/b` names deliveries carry (`X-Shopify-Topic`) and the GraphQL
 * `WebhookSubscriptionTopic` enum values the Admin API takes (`APP_UNINSTALLED` is
 * `app/uninstalled`). The enum is a subset of Shopify's: the topics apps commonly subscribe to.
 * Compliance topics are not in it: they are configured, never created through the API (§6.5).
 */

/** The mandatory compliance topics (reference §6.5), configured as `compliance_topics` only. */
export const COMPLIANCE_TOPICS: readonly string[] = ['customers/data_request', 'customers/redact', 'shop/redact'];

/** Topics that `webhookSubscriptionCreate` accepts. */
const API_TOPICS: readonly string[] = [
  'app/uninstalled',
  'app/scopes_update',
  'app_subscriptions/update',
  'app_purchases_one_time/update',
  'bulk_operations/finish',
  'carts/create',
  'carts/update',
  'checkouts/create',
  'checkouts/update',
  'collections/create',
  'collections/update',
  'collections/delete',
  'customers/create',
  'customers/update',
  'customers/delete',
  'fulfillments/create',
  'fulfillments/update',
  'fulfillment_orders/cancellation_request_submitted',
  'fulfillment_orders/fulfillment_request_submitted',
  'inventory_items/create',
  'inventory_items/update',
  'inventory_items/delete',
  'inventory_levels/update',
  'locations/create',
  'locations/update',
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
  'orders/delete',
  'products/create',
  'products/update',
  'products/delete',
  'refunds/create',
  'shop/update',
  'themes/publish',
];

/** A topic as deliveries name it: lower-case segments joined by `/`. */
const TOPIC = /^[a-z0-9_]+(?:\/[a-z0-9_]+){1,3}$/;

/** `app/uninstalled` → `APP_UNINSTALLED`. */
const enumOf = (topic: string) => topic.toUpperCase().replaceAll('/', '_');

const BY_ENUM = new Map(API_TOPICS.map((topic) => [enumOf(topic), topic]));

/** True when `value` is a well-formed topic name such as `orders/create` (known to the emulator or not). */
export function isTopic(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 128 && TOPIC.test(value);
}

/** True for `customers/data_request`, `customers/redact` and `shop/redact`. */
export function isComplianceTopic(topic: string): boolean {
  return COMPLIANCE_TOPICS.includes(topic);
}

/**
 * The enum values of `WebhookSubscriptionTopic`, for the schema.
 *
 * @example
 * topicEnumValues().includes('ORDERS_CREATE'); // true
 */
export function topicEnumValues(): string[] {
  return [...BY_ENUM.keys()];
}

/** `APP_UNINSTALLED` → `app/uninstalled`; `undefined` for a value outside the enum. */
export function topicOfEnum(value: string): string | undefined {
  return BY_ENUM.get(value);
}

/** `app/uninstalled` → `APP_UNINSTALLED`. */
export function enumOfTopic(topic: string): string {
  return enumOf(topic);
}
