/**
 * The emulator's public shapes. Other parts of shoptoken (tests, the demo) code against these, so
 * they change only together with their users.
 */

import type { EmulatorClock } from './clock.ts';
import type { EmulatorFaults } from './faults.ts';
import type { CallbackResult, FulfillmentRequestInput, FulfillmentRequestResult } from './fulfillment-callbacks.ts';
import type { RequestLogEntry } from './request-log.ts';
import type { EmulatorWebhooksConfig, TriggerWebhookOptions } from './webhook-config.ts';
import type { WebhookAttempt, WebhookDeliveryRecord } from './webhook-dispatcher.ts';

/** An app registered with the emulator, as in the Partner Dashboard / `shopify.app.toml`. */
export interface EmulatorAppConfig {
  clientId: string;
  clientSecret: string;
  /** Allowed `redirect_uri` values, matched by exact string equality. */
  redirectUrls: string[];
  /** Shown on the consent page; default the client id. */
  name?: string;
  /**
   * The scopes of the app's active version (`shopify.app.toml` `[access_scopes] scopes`): granted
   * by an authorize request without `scope` (Shopify-managed scopes, reference §1.2) and by an
   * install without the OAuth pages (`installedApps`, {@link Emulator.install}). Default none.
   */
  scopes?: string[];
  /**
   * Webhook subscriptions of the app's configuration (`shopify.app.toml` `[webhooks]`). Without it,
   * the API version is `2026-10` and only subscriptions created through the Admin API receive.
   */
  webhooks?: EmulatorWebhooksConfig;
}

/** A staff user to seed into a shop. */
export interface EmulatorUserSeed {
  /** Numeric string; generated when absent. */
  id?: string;
  firstName: string;
  lastName: string;
  email: string;
  accountOwner?: boolean;
  /** the user's permissions, as scope handles; ['*'] = everything */
  permissions: string[];
  locale?: string;
  collaborator?: boolean;
}

/** A shop to seed; shops that are not seeded are created on demand with default staff. */
export interface EmulatorShopSeed {
  domain: string;
  name?: string;
  email?: string;
  users?: EmulatorUserSeed[];
  /**
   * Client ids of apps created by the shop's own organization: only these may use the
   * client-credentials grant on this shop (reference §4), and only while installed on it.
   */
  organizationClientIds?: string[];
  /**
   * Client ids of registered apps installed on the shop from the start, with the app's configured
   * `scopes` (as Shopify-managed installation does, without the OAuth pages). No token is issued.
   */
  installedApps?: string[];
}

/** The Admin API's leaky bucket, per app and shop. */
export interface EmulatorThrottle {
  /** Bucket size in cost points; default 2000. */
  maximumAvailable: number;
  /** Points restored per second; default 100. */
  restoreRate: number;
}

/** Options of {@link createEmulator}, checked when it is built. */
export interface EmulatorOptions {
  apps: EmulatorAppConfig[];
  shops?: EmulatorShopSeed[];
  /** ms since epoch; default Date.now */
  now?: () => number;
  /** default 60 */
  codeTtlSeconds?: number;
  /** The Admin API's rate limit; default `{ maximumAvailable: 2000, restoreRate: 100 }`. */
  throttle?: EmulatorThrottle;
  /**
   * How long one request to an app (a webhook delivery attempt, a fulfillment-service callback)
   * may take in total before it counts as failed; default 5000 (reference §6.3). Keep it small in
   * tests of timeouts.
   */
  appTimeoutMs?: number;
  /** How the emulator reaches apps (webhooks, fulfillment-service callbacks); default the global `fetch`. */
  appFetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** A staff user of an emulated shop. */
export interface EmulatorUser {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  accountOwner: boolean;
  permissions: string[];
  locale: string;
  collaborator: boolean;
}

/** A snapshot of one emulated shop. */
export interface EmulatorShopView {
  /** The shop's numeric id (`shop_id` of compliance payloads, `id` of `app/uninstalled`). */
  id: number;
  domain: string;
  name: string;
  email: string;
  users: EmulatorUser[];
  /** scopes granted to each installed app, by clientId */
  installations: Record<string, string[]>;
}

/** One request to the token endpoint, successful or not. Never holds a token value. */
export interface GrantRecord {
  /** ms since epoch, from the emulator's clock. */
  at: number;
  shop: string;
  clientId: string;
  /** `authorization_code`, or the `grant_type` that was sent. */
  grantType: string;
  accessMode: 'offline' | 'online' | null;
  expiring: boolean;
  userId: string | null;
  /** The HTTP status answered. */
  status: number;
}

/** A local Shopify: OAuth install, the token endpoint and a minimal Admin API. */
export interface Emulator {
  /** Serve one request in-process (no network). */
  fetch(request: Request): Promise<Response>;
  /** Listen on host (default 127.0.0.1) and port (default 0 = any). */
  listen(options?: { port?: number; host?: string }): Promise<{ origin: string; close(): Promise<void> }>;
  /** The base-URL template to give shoptoken: `${origin}/{shop}` (literal `{shop}`). */
  baseUrl(origin: string): string;
  /** Every token grant served (successful or not), oldest first. */
  grants(): GrantRecord[];
  /** A shop's state (created on demand with the default users if unknown); undefined if domain invalid. */
  shop(domain: string): EmulatorShopView | undefined;
  /**
   * Installs an app on a shop without the OAuth pages, with `scopes` (default the app's configured
   * `scopes`), added to what it already has, as a consent does. No token is issued; an existing
   * non-expiring offline token takes the new scopes at its next authorization-code exchange.
   * Throws a ConfigError listing every problem (invalid shop, unknown app, bad scope handles).
   *
   * @example
   * emulator.setOrganizationApp('own-store.myshopify.com', 'client-id');
   * emulator.install('own-store.myshopify.com', 'client-id', ['read_products']);
   * // client credentials now work there, with scope 'read_products'
   */
  install(shop: string, clientId: string, scopes?: string[]): void;
  /**
   * Uninstalls an app from a shop, as `app/uninstalled`: revokes its codes, access tokens (offline,
   * online, client credentials) and refresh tokens at once (Admin API then answers 401; refresh
   * answers the dead-token `401 invalid_request`). When the app was installed it also sends
   * `app/uninstalled` to its subscribers (in the background: `await deliverDueWebhooks()` to wait),
   * deletes the subscriptions created through the Admin API on that shop (configured ones stay),
   * and schedules `shop/redact` 48 hours later on the emulator's clock. Throws a ConfigError for
   * an invalid shop or unknown app.
   */
  uninstall(shop: string, clientId: string): void;
  /**
   * Triggers `topic` for the app on the shop: one delivery per matching subscription (configured
   * or created through the Admin API), sharing one `X-Shopify-Event-Id`. Resolves with the
   * deliveries' ids (`X-Shopify-Webhook-Id`) once each first attempt has settled; failed ones are
   * retried on the emulator's clock. Throws a ConfigError for an invalid shop, app, topic or
   * payload, or when the app is not installed (compliance topics excepted).
   *
   * @example
   * const [id] = await emulator.triggerWebhook(shop, clientId, 'orders/create', { id: 1 });
   * emulator.webhookDeliveries().find((d) => d.id === id)?.state; // 'delivered' | 'pending'
   */
  triggerWebhook(
    shop: string,
    clientId: string,
    topic: string,
    payload: object,
    options?: TriggerWebhookOptions,
  ): Promise<string[]>;
  /** Every webhook delivery, oldest first, with its attempts. */
  webhookDeliveries(): WebhookDeliveryRecord[];
  /**
   * Sends every attempt due on the emulator's clock (retries, scheduled `shop/redact`) and
   * resolves once none is due or in flight. Moving an owned clock starts this in the background;
   * with `options.now` (the caller's clock) call it after moving time.
   */
  deliverDueWebhooks(): Promise<void>;
  /**
   * Sends a delivery again — same id, body and `Triggered-At` — as Shopify's duplicates do. The
   * attempt is recorded with `duplicate: true` and changes neither state nor retry schedule.
   * Throws a ConfigError for an unknown id.
   */
  redeliverWebhook(webhookId: string): Promise<WebhookAttempt>;
  /**
   * The merchant requests fulfillment from the app's fulfillment service (reference §8): creates
   * an order and a fulfillment order assigned to the service's location (request status
   * SUBMITTED), then POSTs `{"kind":"FULFILLMENT_REQUEST"}` to
   * `{callbackUrl}/fulfillment_order_notification` (no notification without a callbackUrl). Throws a
   * ConfigError when the app is not installed, has no fulfillment service on the shop, or the input
   * is bad.
   */
  requestFulfillment(shop: string, clientId: string, input: FulfillmentRequestInput): Promise<FulfillmentRequestResult>;
  /**
   * The merchant asks to cancel an accepted fulfillment order: its request status becomes
   * CANCELLATION_REQUESTED and `{"kind":"CANCELLATION_REQUEST"}` is POSTed to the notification URL.
   * Throws a ConfigError for an unknown order or one whose request status is not ACCEPTED.
   */
  requestCancellation(
    shop: string,
    clientId: string,
    fulfillmentOrderId: string,
  ): Promise<{ notification: CallbackResult | null }>;
  /**
   * `GET {callbackUrl}/fetch_stock.json?max_retries=3&shop=…&timestamp=…[&sku=…]`, signed over the raw
   * query (`X-Shopify-Hmac-Sha256`); needs a service with `inventoryManagement`.
   */
  fetchStock(shop: string, clientId: string, options?: { sku?: string; service?: string }): Promise<CallbackResult>;
  /**
   * `GET {callbackUrl}/fetch_tracking_numbers.json?order_names[]=…&shop=…&timestamp=…`, signed over the
   * raw query; needs a service with `trackingSupport`.
   */
  fetchTrackingNumbers(
    shop: string,
    clientId: string,
    orderNames: string[],
    options?: { service?: string },
  ): Promise<CallbackResult>;
  /**
   * The emulator's time. Movable (`advance`, `set`) when the emulator owns it; when `options.now`
   * was given, the caller owns time and `advance`/`set` throw.
   */
  readonly clock: EmulatorClock;
  /** Fault injection on the token, GraphQL, authorize and access-scopes endpoints. */
  readonly faults: EmulatorFaults;
  /** Requests to the emulated Shopify endpoints (not `/_emulator/*`), in the order they were answered. */
  requests(): RequestLogEntry[];
  /**
   * Retires every refresh token of the app on the shop, as a revoked grant: refresh then answers
   * Shopify's dead-token `401 invalid_request`. Access tokens live until they expire. Throws a ConfigError for an invalid
   * shop or an unknown app.
   */
  revokeRefreshTokens(shop: string, clientId: string): void;
  /**
   * Marks the app as created by the shop's own organization, so it may use client credentials
   * there once installed ({@link Emulator.install}). Throws a ConfigError for an invalid shop or an
   * unknown app.
   */
  setOrganizationApp(shop: string, clientId: string): void;
}
