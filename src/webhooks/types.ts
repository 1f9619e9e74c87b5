/**
 * The public shapes of the webhook inbox: its options, what a handler sees, the compliance
 * payloads, and what a processing pass reports.
 */

import type { TokenAwareAdminClient } from '../admin/admin.ts';
import type { ShoptokenConfig } from '../config/load.ts';
import type { ShoptokenError } from '../errors.ts';
import type { TriggeredAt } from '../protocol/webhook.ts';
import type { UninstallOutcome } from '../vault/shop-lifecycle.ts';
import type { OfflineToken } from '../vault/types.ts';
import type { WebhookInbox } from '../vault/webhook-inbox.ts';
import type { WebhookAnswer, WebhookInbound } from './answer.ts';

/** What the webhook inbox needs from the vault (`openVault` and `openDefaultVault` give all of it). */
export interface WebhookVault {
  readonly now: () => number;
  admin(shop: string): TokenAwareAdminClient;
  token(shop: string): Promise<OfflineToken>;
  uninstalled(shop: string, triggeredAt: number | null): Promise<UninstallOutcome>;
  scopesUpdated(shop: string, scopes: readonly string[], changedAt: number | null): Promise<boolean>;
  deleteShop(shop: string): Promise<number>;
  webhookInbox(): WebhookInbox | null;
}

/** What a handler is called with: one verified delivery, and the shop's Admin API client. */
export interface WebhookContext<Payload = unknown> {
  /** The topic, lower case, e.g. `orders/create`. */
  topic: string;
  /** The shop's canonical domain. */
  shop: string;
  /** The parsed JSON body. */
  payload: Payload;
  /** Unique per delivery (the deduplication key). */
  webhookId: string;
  /** Shared by every delivery of one merchant action; `null` when Shopify did not send it. */
  eventId: string | null;
  /** When Shopify triggered the delivery (nanosecond exact); `null` when not sent. */
  triggeredAt: TriggeredAt | null;
  /** The API version the payload was serialized with; `null` when not sent. */
  apiVersion: string | null;
  /** The subscription's name, when it has one. */
  name: string | null;
  /** Which run of this delivery this is: 1, then 2 after a failure, … */
  attempt: number;
  /**
   * The Admin API client on the shop's offline token. When that token cannot be made valid (the
   * app was uninstalled, Shopify refused it, Shopify is unreachable), the handler still runs:
   * `adminError` says why and every request of `admin` rejects with it.
   */
  admin: TokenAwareAdminClient;
  /** Why `admin` cannot be used, or `null` when the shop's token was valid when the run started. */
  adminError: ShoptokenError | null;
  /** Aborted when the run takes longer than `handlerTimeoutMs` (pass it to `fetch`, `admin.request`, …). */
  signal: AbortSignal;
  /**
   * For `app/uninstalled` and `shop/redact`: what the inbox did with the shop's tokens before the
   * handler ran (`reinstalled`: nothing, the shop was installed again since).
   */
  uninstall?: UninstallOutcome;
}

/** A topic's handler. Throwing (or rejecting) makes the delivery run again later, up to `maxAttempts`. */
export type WebhookHandler<Payload = unknown> = (context: WebhookContext<Payload>) => void | Promise<void>;

/** A customer as the compliance topics describe them. */
export interface ComplianceCustomer {
  id: number;
  email: string | null;
  phone: string | null;
}

/** `customers/data_request`: a customer asked for their data; send it to the merchant. */
export interface CustomersDataRequestPayload {
  shop_id: number;
  shop_domain: string;
  orders_requested: number[];
  customer: ComplianceCustomer;
  data_request: { id: number };
}

/** `customers/redact`: erase a customer's data (within 30 days). */
export interface CustomersRedactPayload {
  shop_id: number;
  shop_domain: string;
  customer: ComplianceCustomer;
  orders_to_redact: number[];
}

/** `shop/redact`: erase the shop's data, sent 48 hours after an uninstall. */
export interface ShopRedactPayload {
  shop_id: number;
  shop_domain: string;
}

/** The mandatory compliance topics' hooks (required of apps in the App Store). */
export interface ComplianceHandlers {
  customersDataRequest?: WebhookHandler<CustomersDataRequestPayload>;
  customersRedact?: WebhookHandler<CustomersRedactPayload>;
  /**
   * Runs after shoptoken erased the shop's tokens and queued deliveries; erase the app's own data
   * here. When the shop was installed again within the 48 hours (`ctx.uninstall.reinstalled`),
   * shoptoken erased nothing of the new install.
   */
  shopRedact?: WebhookHandler<ShopRedactPayload>;
}

/** What a fulfillment service's stock and tracking callbacks see. */
export interface FulfillmentCallbackContext {
  shop: string;
  /** The query Shopify sent (`sku`, `order_names[]`, `max_retries`, …). */
  params: URLSearchParams;
  /** The Admin API client on the shop's offline token (see {@link WebhookContext.admin}). */
  admin: TokenAwareAdminClient;
  adminError: ShoptokenError | null;
}

/** `fulfillment_order_notification`'s body. */
export interface FulfillmentNotificationPayload {
  kind: 'FULFILLMENT_REQUEST' | 'CANCELLATION_REQUEST';
  [field: string]: unknown;
}

/**
 * A fulfillment service's callbacks, answered under `path` (the service's `callbackUrl` is
 * `appUrl + path`). Notifications go through the inbox like webhooks (stored, acknowledged, run
 * with retries); the stock and tracking queries are answered at once from the app's functions.
 */
export interface FulfillmentServiceHandlers {
  /** Where the callbacks arrive; default `/fulfillment`. */
  path?: string;
  /** A merchant requested fulfillment (or its cancellation): query `assignedFulfillmentOrders` and accept. */
  onNotification?: WebhookHandler<FulfillmentNotificationPayload>;
  /** `fetch_stock`: stock levels by SKU (`params.get('sku')` asks for one). Answered as `{ "SKU": quantity }`. */
  fetchStock?: (
    ctx: FulfillmentCallbackContext & { sku: string | null },
  ) => Record<string, number> | Promise<Record<string, number>>;
  /** `fetch_tracking_numbers`: tracking numbers by order name (`#1001.1`). */
  fetchTrackingNumbers?: (
    ctx: FulfillmentCallbackContext & { orderNames: string[] },
  ) => Record<string, string> | Promise<Record<string, string>>;
}

/** Options of {@link createWebhooks}; checked when it is built (ConfigError lists every problem). */
export interface WebhooksOptions {
  /** The loaded configuration: its client secrets are the default of `apiSecret`. */
  config?: ShoptokenConfig;
  /** The client secret (a list during rotation, current first) that signs deliveries. */
  apiSecret?: string | readonly string[];
  /** The vault: tokens for the handlers' Admin clients, and the store the inbox lives in. */
  vault: WebhookVault;
  /** Where Shopify delivers: this path and every path under it; default `/webhooks`. */
  path?: string;
  /** Handlers by topic (`orders/create`, `app/uninstalled`, …). */
  handlers?: Readonly<Record<string, WebhookHandler>>;
  /** The compliance topics' hooks. */
  compliance?: ComplianceHandlers;
  /** A fulfillment service's callbacks (notifications, stock, tracking numbers). */
  fulfillment?: FulfillmentServiceHandlers;
  /** How long a webhook id is remembered to drop duplicates, ms; default 7 days. */
  dedupeWindowMs?: number;
  /** Runs of a delivery before it is dead-lettered; default 8. */
  maxAttempts?: number;
  /** The wait after the first failed run, ms, doubling after each failure; default 5,000. */
  retryDelayMs?: number;
  /** The longest wait between runs, ms; default 1 hour. */
  maxRetryDelayMs?: number;
  /** How long a claim on a delivery lasts without being extended, ms (the takeover time after a crash); default 60,000. */
  leaseMs?: number;
  /**
   * How long one run of a handler may take, ms; default 5 minutes. Then its `signal` is aborted and
   * the run counts as failed (it runs again after the backoff).
   */
  handlerTimeoutMs?: number;
  /** Deliveries run at once by this process; default 4. */
  concurrency?: number;
  /** How often the worker looks for due deliveries (retries, other instances' crashes), ms; default 1,000. */
  pollIntervalMs?: number;
  /** How long dead letters are kept, ms; default 30 days. */
  deadLetterRetentionMs?: number;
  /** Largest body accepted, bytes; default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Called when a handler fails (the error and where); never given a payload. Default: a
   * `ShoptokenWarning` on `process` naming the topic, shop and attempt (tokens in the message removed).
   */
  onError?: (error: unknown, info: { topic: string; shop: string; webhookId: string; attempt: number }) => void;
}

/** What one processing pass did. */
export interface WebhookRunReport {
  /** Deliveries whose handler succeeded. */
  done: number;
  /** Deliveries that failed and will run again. */
  retried: number;
  /** Deliveries that failed their last attempt (or cannot be opened) and were dead-lettered. */
  dead: number;
}

/** The webhook inbox: the receiving handler and the worker that runs the handlers. */
export interface Webhooks {
  /**
   * Answers deliveries on `path`: verifies them (401 for a bad or missing HMAC, 400/405/413 for other
   * malformed requests), stores each new one durably and answers 200 at once — a duplicate gets 200
   * and is not stored again. 503 with `Retry-After` when the store is unreachable (Shopify retries).
   * Returns null for other paths. Never runs a handler before answering. With `fulfillment`, also
   * answers its callbacks under `fulfillment.path`.
   */
  handle(request: Request): Promise<Response | null>;
  /**
   * The same, without web `Request`/`Response` objects (what the Node adapters use): null for a path
   * that is not the inbox's. The caller reads the body, at most `maxBodyBytes` (`null` when larger).
   */
  receive(inbound: WebhookInbound): Promise<WebhookAnswer | null>;
  /** The largest body accepted. */
  readonly maxBodyBytes: number;
  /** Runs due deliveries until none is left (or `limit` runs); what tests and one-off scripts call. */
  drain(options?: { limit?: number }): Promise<WebhookRunReport>;
  /** Starts the background worker (polls every `pollIntervalMs`, and at once after each new delivery). */
  start(): void;
  /** Stops the worker and waits for the runs in progress. */
  stop(): Promise<void>;
  readonly path: string;
  /** True for a pathname {@link Webhooks.handle} answers (the webhook path and, with `fulfillment`, its callbacks). */
  owns(pathname: string): boolean;
}
