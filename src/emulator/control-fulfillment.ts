/**
 * The fulfillment-service controls (the merchant's and Shopify's side, reference §8), each a POST
 * with a JSON body that answers what the matching `emulator` method resolves with:
 * `/_emulator/fulfillment/request` `{"shop", "clientId", "lineItems", "orderName"?, "service"?}`,
 * `/_emulator/fulfillment/cancel` `{"shop", "clientId", "fulfillmentOrderId"}`,
 * `/_emulator/fulfillment/fetch-stock` `{"shop", "clientId", "sku"?, "service"?}` and
 * `/_emulator/fulfillment/fetch-tracking-numbers` `{"shop", "clientId", "orderNames", "service"?}`.
 */

import type { Hono } from 'hono';
import type { Controls } from './control.ts';
import { invalid, jsonObject } from './control-input.ts';
import { fetchStock, fetchTrackingNumbers, requestCancellation, requestFulfillment } from './fulfillment-requests.ts';
import { json } from './http.ts';
import { unknownFields } from './installations.ts';
import type { EmulatorState } from './state.ts';

type Operation = (state: EmulatorState, input: never) => Promise<object | string[]>;

const ROUTES: Record<string, { fields: string[]; run: Operation }> = {
  request: { fields: ['shop', 'clientId', 'lineItems', 'orderName', 'service'], run: requestFulfillment },
  cancel: { fields: ['shop', 'clientId', 'fulfillmentOrderId'], run: requestCancellation },
  'fetch-stock': { fields: ['shop', 'clientId', 'sku', 'service'], run: fetchStock },
  'fetch-tracking-numbers': { fields: ['shop', 'clientId', 'orderNames', 'service'], run: fetchTrackingNumbers },
};

/** Mounts the fulfillment controls on `app`. */
export function mountFulfillmentControls(app: Hono, { state }: Controls): void {
  for (const [name, { fields, run }] of Object.entries(ROUTES)) {
    app.post(`/_emulator/fulfillment/${name}`, async (c) => {
      const body = await jsonObject(c);
      if (body instanceof Response) return body;
      // Unknown fields first: the operation itself changes state once its own checks pass.
      const unknown = unknownFields(body, fields);
      if (unknown.length > 0) return invalid(`fulfillment ${name}`, unknown);
      const result = await run(state, body as never);
      return Array.isArray(result) ? invalid(`fulfillment ${name}`, result) : json(result);
    });
  }
}
