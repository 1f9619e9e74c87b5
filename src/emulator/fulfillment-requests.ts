/**
 * The merchant's side of a fulfillment service (reference §8), as the emulator's methods and
 * control endpoints drive it: request fulfillment, request cancellation, and the GET callbacks
 * Shopify makes for stock levels and tracking numbers. Each checks its input first and answers
 * every problem (a list of strings) without changing anything.
 */

import { normalizeShop } from '../protocol/shop.ts';
import {
  type CallbackResult,
  type FulfillmentRequestResult,
  fetchStockCallback,
  fetchTrackingCallback,
  notifyService,
} from './fulfillment-callbacks.ts';
import type { FulfillmentServiceRecord } from './fulfillment-store.ts';
import { targetProblems } from './installations.ts';
import type { EmulatorState } from './state.ts';

/** The shop and app every operation acts on, and the service's handle when several exist. */
export interface ServiceTargetInput {
  shop: unknown;
  clientId: unknown;
  service?: unknown;
}

type Flag = 'inventoryManagement' | 'trackingSupport';

const isText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max && /^[^\p{Cc}]+$/u.test(value);

/** A line item `{ sku, quantity }`: a SKU and a quantity from 1 to 1,000,000. */
function isLine(line: unknown): boolean {
  if (typeof line !== 'object' || line === null) return false;
  const { sku, quantity } = line as Record<string, unknown>;
  return isText(sku, 255) && Number.isSafeInteger(quantity) && (quantity as number) > 0 && (quantity as number) <= 1e6;
}

/** The service the operation uses, or why there is none. */
function serviceFor(state: EmulatorState, input: ServiceTargetInput, flag?: Flag): FulfillmentServiceRecord | string[] {
  const problems = targetProblems(state, input.shop, input.clientId);
  if (input.service !== undefined && !isText(input.service, 255)) problems.push('service must be a service handle');
  if (problems.length > 0) return problems;
  const shop = normalizeShop(input.shop)!;
  const clientId = input.clientId as string;
  if (!state.shop(shop).installations.has(clientId)) return [`the app is not installed on ${shop}`];
  const services = state.fulfillment.services(shop, clientId);
  const service =
    input.service === undefined
      ? (services.find((candidate) => flag === undefined || candidate[flag]) ?? services[0])
      : services.find((candidate) => candidate.handle === input.service);
  if (!service) return [`the app has no such fulfillment service on ${shop}: create one with fulfillmentServiceCreate`];
  if (flag !== undefined && !service[flag]) return [`the fulfillment service ${service.handle} does not set ${flag}`];
  if (flag !== undefined && service.callbackUrl === null) {
    return [`the fulfillment service ${service.handle} has no callbackUrl`];
  }
  return service;
}

/** Creates an order and its fulfillment order (SUBMITTED), then notifies the service. */
export async function requestFulfillment(
  state: EmulatorState,
  input: ServiceTargetInput & { lineItems: unknown; orderName?: unknown },
): Promise<FulfillmentRequestResult | string[]> {
  const { lineItems, orderName } = input;
  const problems: string[] = [];
  if (!Array.isArray(lineItems) || lineItems.length === 0 || lineItems.length > 250 || !lineItems.every(isLine)) {
    problems.push('lineItems must be 1 to 250 items { sku: string, quantity: integer from 1 }');
  }
  if (orderName !== undefined && !isText(orderName, 64)) problems.push('orderName must be 1 to 64 characters');
  const service = serviceFor(state, input);
  if (Array.isArray(service)) problems.unshift(...service);
  else if (state.shop(service.shop).records.orders.some((order) => order.name === orderName)) {
    problems.push(`orderName ${String(orderName)} is already taken on ${service.shop}`);
  }
  if (problems.length > 0 || Array.isArray(service)) return problems;
  const lines = (lineItems as { sku: string; quantity: number }[]).map(({ sku, quantity }) => ({ sku, quantity }));
  const shop = state.shop(service.shop);
  const fulfillmentOrder = state.fulfillment.submit(shop, service, lines, orderName as string | undefined);
  return {
    orderId: fulfillmentOrder.order.id,
    orderName: fulfillmentOrder.order.name,
    fulfillmentOrderId: fulfillmentOrder.id,
    notification: await notifyService(state, service, 'FULFILLMENT_REQUEST'),
  };
}

/** The merchant asks to cancel an accepted fulfillment order; the service is notified. */
export async function requestCancellation(
  state: EmulatorState,
  input: { shop: unknown; clientId: unknown; fulfillmentOrderId: unknown },
): Promise<{ notification: CallbackResult | null } | string[]> {
  const problems = targetProblems(state, input.shop, input.clientId);
  if (!isText(input.fulfillmentOrderId, 255)) problems.push('fulfillmentOrderId must be a fulfillment order id');
  if (problems.length > 0) return problems;
  const shop = normalizeShop(input.shop)!;
  const order = state.fulfillment.find(shop, input.clientId as string, input.fulfillmentOrderId as string);
  if (!order) return [`fulfillmentOrderId is not a fulfillment order assigned to the app on ${shop}`];
  const refused = state.fulfillment.transition(order, 'requestCancellation');
  if (refused.length > 0) return refused.map((error) => error.message);
  const service = state.fulfillment
    .services(shop, order.clientId)
    .find((candidate) => candidate.id === order.serviceId)!;
  return { notification: await notifyService(state, service, 'CANCELLATION_REQUEST') };
}

/** `GET …/fetch_stock.json` of the app's service with `inventoryManagement`. */
export async function fetchStock(
  state: EmulatorState,
  input: ServiceTargetInput & { sku?: unknown },
): Promise<CallbackResult | string[]> {
  const service = serviceFor(state, input, 'inventoryManagement');
  const problems = Array.isArray(service) ? service : [];
  if (input.sku !== undefined && !isText(input.sku, 255)) problems.push('sku must be 1 to 255 characters');
  if (problems.length > 0 || Array.isArray(service)) return problems;
  return fetchStockCallback(state, service, input.sku as string | undefined);
}

/** `GET …/fetch_tracking_numbers.json` of the app's service with `trackingSupport`. */
export async function fetchTrackingNumbers(
  state: EmulatorState,
  input: ServiceTargetInput & { orderNames: unknown },
): Promise<CallbackResult | string[]> {
  const service = serviceFor(state, input, 'trackingSupport');
  const problems = Array.isArray(service) ? service : [];
  const { orderNames } = input;
  if (!Array.isArray(orderNames) || orderNames.length === 0 || !orderNames.every((name) => isText(name, 64))) {
    problems.push('orderNames must be a non-empty array of order names such as #1001.1');
  }
  if (problems.length > 0 || Array.isArray(service)) return problems;
  return fetchTrackingCallback(state, service, orderNames as string[]);
}
