/**
 * The demo controls: buttons on the app page that play Shopify's side through the emulator the
 * demo process owns (its methods, called directly). A merchant requests fulfillment or its
 * cancellation, Shopify asks for stock and tracking numbers, three weeks pass, the merchant
 * uninstalls the app. Each control writes what Shopify did to the activity log and, when the app
 * answers through the webhook inbox's worker, waits (briefly) for the app's own entry, so the page it
 * redirects to shows both.
 */

import type { CallbackResult, Emulator } from '../../src/emulator/index.ts';
import type { OfflineToken } from '../../src/index.ts';
import type { ActivityLog } from './activity.ts';
import { PRODUCTS } from './warehouse.ts';

/** What the controls use of the emulator. */
export type DemoShopify = Pick<
  Emulator,
  | 'requestFulfillment'
  | 'requestCancellation'
  | 'fetchStock'
  | 'fetchTrackingNumbers'
  | 'triggerWebhook'
  | 'uninstall'
  | 'deliverDueWebhooks'
  | 'clock'
>;

export const CONTROL_ACTIONS = [
  'request-fulfillment',
  'request-cancellation',
  'fetch-stock',
  'fetch-tracking',
  'three-weeks',
  'uninstall',
] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export const isControlAction = (value: unknown): value is ControlAction =>
  (CONTROL_ACTIONS as readonly unknown[]).includes(value);

export const THREE_WEEKS_MS = 21 * 24 * 3_600_000;

export interface ControlOptions {
  shopify: DemoShopify;
  /** The app's client id on the emulator. */
  clientId: string;
  activity: ActivityLog;
  /** The shop's offline token (its metadata goes to the log). */
  offline(shop: string): Promise<OfflineToken | null>;
  /** How long a control waits for the app's answer to show in the log; default 5,000 ms. */
  waitMs?: number;
}

export interface Controls {
  /** Runs `action` on `shop` (form fields: `sku`, `quantity`); resolves the path to redirect to (303). */
  run(shop: string, action: ControlAction, form: URLSearchParams): Promise<string>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const expiry = (token: OfflineToken | null) => (token?.expiresAt ? token.expiresAt.toISOString() : 'never');

/**
 * @example
 * const controls = createControls({ shopify: emulator, clientId, activity, offline: (shop) => vault.offline(shop) });
 * ctx.redirect(await controls.run(shop, 'request-fulfillment', form));
 */
export function createControls(options: ControlOptions): Controls {
  const { shopify, clientId, activity } = options;
  const waitMs = options.waitMs ?? 5000;
  /** The fulfillment orders Shopify sent this service, by shop, oldest first. */
  const requested = new Map<string, { fulfillmentOrderId: string; orderName: string }[]>();
  const shopifySays = (shop: string, kind: string, text: string) => activity.add(shop, 'shopify', kind, text);

  async function waitForApp(shop: string, kinds: readonly string[], mark: number): Promise<void> {
    if (!(await activity.waitFor(shop, kinds, mark, waitMs))) {
      shopifySays(shop, 'waiting', 'The app has not answered yet: reload the page in a moment.');
    }
  }

  /** Logs the app's answer to Shopify when it is not a 200 (a 200 shows as the app's own entries). */
  function checkAnswer(shop: string, what: string, answer: CallbackResult | null): void {
    if (answer && answer.status !== 200) {
      shopifySays(
        shop,
        'error',
        `The app answered ${what} with ${answer.status ?? answer.outcome}: Shopify retries later`,
      );
    }
  }

  const actions: Record<ControlAction, (shop: string, form: URLSearchParams) => Promise<string | undefined>> = {
    async 'request-fulfillment'(shop, form) {
      const sku = PRODUCTS.find((p) => p.sku === form.get('sku'))?.sku ?? PRODUCTS[0]!.sku;
      const quantity = Math.min(10, Math.max(1, Number.parseInt(form.get('quantity') ?? '', 10) || 1));
      const mark = activity.mark();
      shopifySays(
        shop,
        'request',
        `A customer orders ${quantity} × ${sku} and the merchant requests fulfillment from the service: Shopify creates the order and sends fulfillment_order_notification`,
      );
      const result = await shopify.requestFulfillment(shop, clientId, { lineItems: [{ sku, quantity }] });
      const { orderId, orderName, fulfillmentOrderId, notification } = result;
      checkAnswer(shop, 'the notification', notification);
      requested.set(shop, [...(requested.get(shop) ?? []), { fulfillmentOrderId, orderName }]);
      const payload = { id: Number(orderId.split('/').pop()), admin_graphql_api_id: orderId, name: orderName };
      await shopify.triggerWebhook(shop, clientId, 'orders/create', { ...payload, line_items: [{ sku, quantity }] });
      await waitForApp(shop, ['accepted', 'rejected'], mark);
      return undefined;
    },
    async 'request-cancellation'(shop) {
      const last = requested.get(shop)?.at(-1);
      if (!last) {
        shopifySays(shop, 'error', 'No fulfillment request to cancel: request one first.');
        return undefined;
      }
      const mark = activity.mark();
      shopifySays(shop, 'cancel', `The merchant asks the service to cancel ${last.orderName}`);
      const { notification } = await shopify.requestCancellation(shop, clientId, last.fulfillmentOrderId);
      checkAnswer(shop, 'the notification', notification);
      await waitForApp(shop, ['cancellation-accepted'], mark);
      return undefined;
    },
    async 'fetch-stock'(shop) {
      shopifySays(shop, 'fetch-stock', 'Shopify asks the service for its stock levels (fetch_stock)');
      checkAnswer(shop, 'fetch_stock', await shopify.fetchStock(shop, clientId));
      return undefined;
    },
    async 'fetch-tracking'(shop) {
      const names = (requested.get(shop) ?? []).map((order) => order.orderName);
      if (names.length === 0) {
        shopifySays(shop, 'error', 'No order at this service to ask tracking numbers for: request fulfillment first.');
        return undefined;
      }
      shopifySays(shop, 'fetch-tracking', `Shopify asks for the tracking numbers of ${names.join(', ')}`);
      checkAnswer(shop, 'fetch_tracking_numbers', await shopify.fetchTrackingNumbers(shop, clientId, names));
      return undefined;
    },
    async 'three-weeks'(shop) {
      const before = await options.offline(shop);
      // The vault, shoptoken and the webhook inbox read the emulator's clock: one move moves them all.
      // The jump skips the keeper's minute-by-minute renewals: the shop looks idle for three weeks.
      const now = shopify.clock.advance(THREE_WEEKS_MS);
      shopifySays(
        shop,
        'clock',
        `Three weeks passed (it is now ${iso(now)}): the staff user’s online token (24 h) and the offline access token (1 h) have expired; the offline token’s refresh token (90 days) has not`,
      );
      // Shopify polls a service with inventory management for stock every hour: the first call after
      // the jump finds the offline token expired, and shoptoken refreshes it before the app answers.
      shopifySays(shop, 'fetch-stock', 'Shopify asks the service for its stock levels, as it does every hour');
      checkAnswer(shop, 'fetch_stock', await shopify.fetchStock(shop, clientId));
      const after = await options.offline(shop);
      const refreshed = after?.expiresAt && before?.expiresAt && after.expiresAt > before.expiresAt;
      activity.add(
        shop,
        'shoptoken',
        refreshed ? 'refreshed' : 'not-refreshed',
        refreshed
          ? `The vault refreshed the expired offline token on use, with its refresh token: the access token is valid until ${expiry(after)}, the new refresh token until ${after.refreshTokenExpiresAt?.toISOString() ?? '—'}`
          : `The offline token was not refreshed (valid until ${expiry(after)})`,
      );
      // The user's online token expired: back through /auth (no consent page: the app is installed).
      return `/auth?shop=${encodeURIComponent(shop)}`;
    },
    async uninstall(shop) {
      const mark = activity.mark();
      shopify.uninstall(shop, clientId);
      shopifySays(
        shop,
        'uninstall',
        'The merchant uninstalled the app: Shopify revoked its tokens and sent app/uninstalled (shop/redact follows 48 hours later)',
      );
      await shopify.deliverDueWebhooks();
      await waitForApp(shop, ['uninstalled'], mark);
      return `/?uninstalled=${encodeURIComponent(shop)}`;
    },
  };

  return {
    async run(shop, action, form) {
      const mark = activity.mark();
      try {
        const location = await actions[action](shop, form);
        if (location) return location;
      } catch (error) {
        // The emulator refuses with a ConfigError (e.g. a cancellation of an order not accepted).
        shopifySays(shop, 'error', `Shopify refused: ${error instanceof Error ? error.message : String(error)}`);
      }
      // `after`: entries newer than this are highlighted, and the URL changes on every control.
      return `/app?after=${mark}#activity`;
    },
  };
}
