/**
 * What makes webhooks: a trigger (`emulator.triggerWebhook`, `POST /_emulator/webhooks/trigger`)
 * and an uninstall, which sends `app/uninstalled`, deletes the app's API subscriptions on the
 * shop and schedules `shop/redact` 48 hours later (reference §6.4, §6.5). Each action's deliveries
 * share one `X-Shopify-Event-Id`.
 */

import { randomUUID } from 'node:crypto';
import { checkTarget, targetProblems } from './installations.ts';
import type { ShopState } from './shops.ts';
import type { EmulatorState } from './state.ts';
import { type EmulatorWebhookHeaders, HEADER_FAMILIES } from './webhook-config.ts';
import { isComplianceTopic, isTopic } from './webhook-topics.ts';

/** `shop/redact` follows an uninstall by 48 hours (reference §6.5). */
export const SHOP_REDACT_DELAY_MS = 48 * 3600 * 1000;

/** A checked trigger. */
export interface TriggerRequest {
  shop: string;
  clientId: string;
  topic: string;
  /** The JSON body, as it will be signed and sent. */
  body: Uint8Array<ArrayBuffer>;
  headers: EmulatorWebhookHeaders | undefined;
}

/** The input of a trigger, from a method call or a control endpoint's JSON body. */
export interface TriggerInput {
  shop: unknown;
  clientId: unknown;
  topic: unknown;
  payload: unknown;
  headers?: unknown;
}

/** The payload serialized, or `undefined` when it is not a JSON object or array. */
function serialize(payload: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  try {
    const text = JSON.stringify(payload);
    return typeof text === 'string' && /^[[{]/.test(text) ? Buffer.from(text, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a trigger: returns it, or every problem. */
export function checkTrigger(state: EmulatorState, input: TriggerInput): TriggerRequest | string[] {
  const problems = targetProblems(state, input.shop, input.clientId);
  const { topic, headers } = input;
  if (!isTopic(topic)) problems.push('topic must be a topic such as orders/create');
  const body = serialize(input.payload);
  if (body === undefined) problems.push('payload must be a JSON object or array');
  if (headers !== undefined && !HEADER_FAMILIES.includes(headers as EmulatorWebhookHeaders)) {
    problems.push(`headers must be one of ${HEADER_FAMILIES.join(', ')}`);
  }
  if (problems.length > 0) return problems;
  const shop = checkTarget(state, input.shop, input.clientId);
  const clientId = input.clientId as string;
  if (!isComplianceTopic(topic as string) && !state.shop(shop).installations.has(clientId)) {
    return [`the app is not installed on ${shop}: Shopify sends it no ${topic as string} webhooks`];
  }
  return {
    shop,
    clientId,
    topic: topic as string,
    body: body!,
    headers: headers as EmulatorWebhookHeaders | undefined,
  };
}

/**
 * Creates one delivery per subscription of the app on the shop that receives the topic, triggered
 * at `triggeredAt` (default now); returns their ids. Nothing is sent here.
 */
export function createDeliveries(state: EmulatorState, request: TriggerRequest, triggeredAt = state.now()): string[] {
  const app = state.apps.get(request.clientId)!;
  const eventId = randomUUID();
  return state.subscriptions.targets(request.shop, request.clientId, request.topic).map((target) =>
    state.webhooks.enqueue({
      shop: request.shop,
      clientId: request.clientId,
      topic: request.topic,
      uri: target.uri,
      apiVersion: app.webhooks.apiVersion,
      headers: request.headers ?? app.webhooks.headers,
      subscription: target.subscription,
      eventId,
      body: request.body,
      triggeredAt,
    }),
  );
}

const jsonBody = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** The shop as `app/uninstalled` carries it (the REST shop resource; the fields apps read). */
function shopPayload(shop: ShopState) {
  return { id: shop.id, name: shop.name, email: shop.email, domain: shop.domain, myshopify_domain: shop.domain };
}

/**
 * Uninstalls the app from the shop: tokens are revoked at once; when the app was installed,
 * `app/uninstalled` goes to its subscribers (API ones included, deleted right after) and
 * `shop/redact` is scheduled 48 hours later. Returns the ids of the `app/uninstalled` deliveries,
 * which the caller sends (or leaves to the dispatcher's next run). Throws a ConfigError for a bad target.
 */
export function uninstallApp(state: EmulatorState, shopInput: unknown, clientId: string): string[] {
  const domain = checkTarget(state, shopInput, clientId);
  const shop = state.shop(domain);
  const installed = shop.installations.has(clientId);
  const request = { shop: domain, clientId, headers: undefined };
  const ids = installed
    ? createDeliveries(state, { ...request, topic: 'app/uninstalled', body: jsonBody(shopPayload(shop)) })
    : [];
  state.uninstall(domain, clientId);
  state.subscriptions.deleteAll(domain, clientId);
  if (installed) {
    const redact = jsonBody({ shop_id: shop.id, shop_domain: domain });
    createDeliveries(state, { ...request, topic: 'shop/redact', body: redact }, state.now() + SHOP_REDACT_DELAY_MS);
  }
  return ids;
}
