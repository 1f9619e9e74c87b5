/**
 * Webhooks on the offline token, for as long as the app is installed: deliveries verified, stored
 * durably and acknowledged at once, deduplicated by webhook id, then run — retried with backoff and
 * dead-lettered after the last attempt — by a worker any number of instances share. Shoptoken's own
 * topics (`app/uninstalled`, `app/scopes_update`, the compliance topics) are handled before the
 * app's handlers.
 */

import { fulfillmentCallbackOf } from '../protocol/fulfillment-callback.ts';
import { readBounded, text, toResponse, type WebhookAnswer, type WebhookInbound } from './answer.ts';
import { handleFulfillment } from './fulfillment.ts';
import { resolveWebhooks } from './options.ts';

export {
  type FulfillmentServiceInput,
  type FulfillmentServiceResult,
  registerFulfillmentService,
  registerWebhooks,
  topicEnum,
  type WebhookSubscriptionInput,
  type WebhookSubscriptionResult,
} from './register.ts';

import { receiveDelivery } from './receive.ts';
import type { Webhooks, WebhooksOptions } from './types.ts';
import { WebhookWorker } from './worker.ts';

export type { WebhookAnswer, WebhookInbound } from './answer.ts';
export type {
  ComplianceCustomer,
  ComplianceHandlers,
  CustomersDataRequestPayload,
  CustomersRedactPayload,
  FulfillmentCallbackContext,
  FulfillmentNotificationPayload,
  FulfillmentServiceHandlers,
  ShopRedactPayload,
  WebhookContext,
  WebhookHandler,
  WebhookRunReport,
  Webhooks,
  WebhooksOptions,
  WebhookVault,
} from './types.ts';

/**
 * Builds the webhook inbox. Throws ConfigError listing every bad option.
 *
 * @example
 * const webhooks = createWebhooks({ config, vault, handlers: {
 *   'orders/create': async ({ shop, payload, admin }) => { await admin.request(QUERY, { variables: { id: payload.id } }); },
 * } });
 * webhooks.start();
 * const response = (await webhooks.handle(request)) ?? (await shoptoken.handle(request));
 */
export function createWebhooks(options: WebhooksOptions): Webhooks {
  const rt = resolveWebhooks(options);
  const worker = new WebhookWorker(rt);
  const prefix = rt.path === '/' ? '/' : `${rt.path}/`;
  const callbackOf = (pathname: string) =>
    rt.fulfillment ? fulfillmentCallbackOf(pathname, rt.fulfillment.path) : null;
  const isDelivery = (pathname: string) => pathname === rt.path || pathname.startsWith(prefix);
  const owns = (pathname: string) => callbackOf(pathname) !== null || isDelivery(pathname);
  const kick = () => worker.kick();
  const receive = async (inbound: WebhookInbound): Promise<WebhookAnswer | null> => {
    const callback = callbackOf(inbound.pathname);
    if (callback) return handleFulfillment(rt, inbound, callback, kick);
    return isDelivery(inbound.pathname) ? receiveDelivery(rt, inbound, kick) : null;
  };
  return {
    path: rt.path,
    owns,
    maxBodyBytes: rt.maxBodyBytes,
    receive: (inbound) => receive(inbound),
    async handle(request) {
      const url = new URL(request.url);
      if (!owns(url.pathname)) return null;
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      let body: Uint8Array | null = new Uint8Array(0);
      try {
        if (hasBody) body = await readBounded(request, rt.maxBodyBytes);
      } catch {
        return toResponse(text(400, 'the body could not be read'));
      }
      const { method, headers } = request;
      const answer = await receive({ method, pathname: url.pathname, search: url.search, headers, body });
      return answer && toResponse(answer, method === 'HEAD');
    },
    drain: (drainOptions) => worker.drain(drainOptions?.limit),
    start: () => worker.start(),
    stop: () => worker.stop(),
  };
}
