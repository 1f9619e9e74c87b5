/**
 * Shared setup for the fulfillment-service tests: the app installed through OAuth with the
 * fulfillment scopes, a loopback receiver at `{origin}/fs` answering as a fulfillment service
 * (stock levels, tracking numbers, 200 to notifications), and the GraphQL the app sends.
 */

import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/index.ts';
import { authorizeParams, exchange, install, setup } from './helpers.ts';
import { type Answer, startReceiver } from './receiver.ts';
import { gql } from './webhook-helpers.ts';

export const SCOPES = 'write_fulfillments,write_assigned_fulfillment_orders';
export const STOCK = { 'SKU-1': 7, 'SKU 1/ü': 3 };
export const TRACKING = {
  tracking_numbers: { '#1001.1': 'qwerty', '#1002.1': 'asdfg' },
  message: 'Successfully received the tracking numbers',
  success: true,
};

/** The app's answers: stock, tracking numbers, 200 to notifications. */
const appAnswers: Answer = (received) => {
  if (received.url.includes('/fetch_stock.json')) return { status: 200, json: STOCK };
  if (received.url.includes('/fetch_tracking_numbers.json')) return { status: 200, json: TRACKING };
  return { status: 200 };
};

/** `fulfillmentServiceCreate` with every field of the answer. */
export const createService = (
  name: string,
  callbackUrl: string | null,
  flags = 'inventoryManagement: true, trackingSupport: true',
) =>
  `mutation { fulfillmentServiceCreate(name: "${name}"${callbackUrl === null ? '' : `, callbackUrl: "${callbackUrl}"`}, ${flags}) {
    fulfillmentService { id handle serviceName callbackUrl inventoryManagement trackingSupport location { id } }
    userErrors { field message } } }`;

/** `assignedFulfillmentOrders` filtered by `status`. */
export const ASSIGNED = (status: string) => `{ assignedFulfillmentOrders(first: 10, assignmentStatus: ${status}) {
  nodes { id status requestStatus order { name } lineItems(first: 10) { nodes { sku remainingQuantity } } } } }`;

/** One of the accept / reject mutations on fulfillment order `id`. */
export const answerRequest = (mutation: string, id: string) =>
  `mutation { ${mutation}(id: "${id}", message: "ok") { fulfillmentOrder { id status requestStatus } userErrors { field message } } }`;

/** The app installed through OAuth with `scope`, and a receiver at `{origin}/fs`. */
export async function serviceSetup(scope = SCOPES) {
  const receiver = await startReceiver(appAnswers);
  const t = setup();
  const { code } = await install(t.emulator, { params: authorizeParams({ scope }) });
  const token = String((await exchange(t.emulator, code)).access_token);
  return { ...t, receiver, token, callbackUrl: `${receiver.origin}/fs` };
}

/** Creates the service "Emulated 3PL" (handle `emulated-3pl`); returns it as answered. */
export async function withService(emulator: Emulator, token: string, callbackUrl: string | null, flags?: string) {
  const body = await gql(emulator, token, createService('Emulated 3PL', callbackUrl, flags));
  assert.deepEqual(body.data.fulfillmentServiceCreate.userErrors, []);
  return body.data.fulfillmentServiceCreate.fulfillmentService;
}
