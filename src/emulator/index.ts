/**
 * The local Shopify emulator: OAuth install (offline and per-user), the token endpoint (code,
 * refresh, client credentials, migration) and a minimal Admin API, served under `/{shop}/…` so
 * that shoptoken reaches it through one setting, the base-URL template
 * `http://127.0.0.1:PORT/{shop}`. It sends webhooks (with retries on its clock) and
 * fulfillment-service callbacks to apps. Tests drive its clock, faults and request log.
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdaptorServer } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { ConfigError } from '../errors.ts';
import { isShopDomain, normalizeShop, SHOP_PLACEHOLDER } from '../protocol/shop.ts';
import { accessScopesEndpoint, graphqlEndpoint, isApiVersion } from './admin.ts';
import { authorizeGet, authorizePost, logout } from './authorize.ts';
import { createClock } from './clock.ts';
import { mountControls } from './control.ts';
import { FaultTable, faultResponse, withoutFields } from './faults.ts';
import { fetchStock, fetchTrackingNumbers, requestCancellation, requestFulfillment } from './fulfillment-requests.ts';
import { checkInstall, checkTarget, installApp } from './installations.ts';
import { checkOptions } from './options.ts';
import { classify, RequestLog } from './request-log.ts';
import { EmulatorState } from './state.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import type { Emulator, EmulatorOptions, EmulatorShopView } from './types.ts';
import { checkTrigger, createDeliveries, uninstallApp } from './webhook-events.ts';

export type { EmulatorClock } from './clock.ts';
export type { EmulatorFaults, FaultEndpoint, FaultRule } from './faults.ts';
export type { CallbackResult, FulfillmentRequestInput, FulfillmentRequestResult } from './fulfillment-callbacks.ts';
export type { OutboundOutcome } from './outbound.ts';
export type { RequestLogEntry } from './request-log.ts';
export type {
  Emulator,
  EmulatorAppConfig,
  EmulatorOptions,
  EmulatorShopSeed,
  EmulatorShopView,
  EmulatorThrottle,
  EmulatorUser,
  EmulatorUserSeed,
  GrantRecord,
} from './types.ts';
export type {
  EmulatorWebhookHeaders,
  EmulatorWebhookSubscriptionConfig,
  EmulatorWebhooksConfig,
  TriggerWebhookOptions,
} from './webhook-config.ts';
export type {
  WebhookAttempt,
  WebhookAttemptOutcome,
  WebhookDeliveryRecord,
  WebhookDeliveryState,
} from './webhook-dispatcher.ts';
export { RETRY_DELAYS_SECONDS } from './webhook-dispatcher.ts';

type ShopHandler = (state: EmulatorState, request: Request, domain: string) => Response | Promise<Response>;

/** The answer of a request whose connection is dropped unanswered. */
const DROPPED = Symbol('dropped');

/** While listening, how often the emulator looks for webhook attempts that came due in real time. */
const DELIVERY_TICK_MS = 1000;

/** The value, or a {@link ConfigError} listing the problems an operation answered. */
function orThrow<T>(result: T | string[]): T {
  if (Array.isArray(result)) throw new ConfigError(result);
  return result;
}

function view(state: EmulatorState, domain: string): EmulatorShopView {
  const shop = state.shop(domain);
  return {
    id: shop.id,
    domain: shop.domain,
    name: shop.name,
    email: shop.email,
    users: shop.users.map((user) => ({ ...user, permissions: [...user.permissions] })),
    installations: Object.fromEntries([...shop.installations].map(([clientId, scopes]) => [clientId, [...scopes]])),
  };
}

function shopRoutes(app: Hono, state: EmulatorState): void {
  // `{shop}` must be exactly a canonical shop domain: anything else is not a store.
  const shopRoute = (handler: ShopHandler) => (c: Context) => {
    const domain = c.req.param('shop');
    if (!isShopDomain(domain)) return c.text('Not Found', 404);
    return handler(state, c.req.raw, domain);
  };
  app.get('/:shop/admin/oauth/authorize', shopRoute(authorizeGet));
  app.post('/:shop/admin/oauth/authorize', shopRoute(authorizePost));
  app.get('/:shop/admin/logout', shopRoute(logout));
  app.post('/:shop/admin/oauth/access_token', shopRoute(tokenEndpoint));
  app.get('/:shop/admin/oauth/access_scopes.json', shopRoute(accessScopesEndpoint));
  app.post('/:shop/admin/api/:version/graphql.json', (c) =>
    isApiVersion(c.req.param('version')) ? shopRoute(graphqlEndpoint)(c) : c.text('Not Found', 404),
  );
}

/**
 * Builds an emulator. Options are checked here ({@link ConfigError} lists every problem).
 *
 * @example
 * const emulator = createEmulator({
 *   apps: [{ clientId: 'key', clientSecret: 'secret', redirectUrls: ['http://127.0.0.1:3000/auth/callback'] }],
 * });
 * const { origin, close } = await emulator.listen();
 * const shopifyBaseUrl = emulator.baseUrl(origin); // 'http://127.0.0.1:PORT/{shop}'
 * emulator.clock.advance(3600 * 1000); // expire the access tokens, without waiting
 */
export function createEmulator(options: EmulatorOptions): Emulator {
  const checked = checkOptions(options);
  const ownClock = createClock(checked.now);
  const state = new EmulatorState(checked, ownClock.now);
  // Moving time sends the webhook attempts it made due (in the background).
  const clock = {
    ownership: ownClock.ownership,
    now: ownClock.now,
    advance: (ms: number) => kicked(ownClock.advance(ms)),
    set: (ms: number) => kicked(ownClock.set(ms)),
  };
  function kicked(now: number): number {
    state.webhooks.kick();
    return now;
  }
  const faults = new FaultTable();
  const log = new RequestLog();
  const app = new Hono();
  mountControls(app, { state, clock, faults, log, view: (domain) => view(state, domain) });
  shopRoutes(app, state);
  app.notFound((c) => c.text('Not Found', 404));
  // Never echo internals: errors may carry request data.
  app.onError((_error, c) => c.text('Internal Server Error', 500));

  /** Applies the first matching fault, handles the request, and logs it. */
  async function serve(request: Request): Promise<Response | typeof DROPPED> {
    const path = new URL(request.url).pathname;
    if (path.startsWith('/_emulator/')) return app.fetch(request);
    const at = clock.now();
    const target = await classify(request);
    const fault = faults.take(target);
    if (fault?.delayMs) await sleep(fault.delayMs);
    let answer: Response | typeof DROPPED;
    if (fault?.reset) answer = DROPPED;
    else if (fault?.status !== undefined) answer = faultResponse(target.endpoint, fault.status, fault);
    else {
      const response = await app.fetch(request);
      if (fault?.commitThenDrop) await response.arrayBuffer();
      answer = fault?.commitThenDrop
        ? DROPPED
        : fault?.omitFields
          ? await withoutFields(response, fault.omitFields)
          : response;
    }
    const status = answer === DROPPED ? 0 : answer.status;
    log.add({ at, method: request.method, path, ...target, status, fault: fault?.id ?? null });
    return answer;
  }

  return {
    async fetch(request) {
      const answer = await serve(request);
      if (answer !== DROPPED) return answer;
      // What undici's fetch throws when the server closes the connection unanswered.
      const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
      throw new TypeError('fetch failed', { cause });
    },
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? '127.0.0.1';
      const server = createAdaptorServer({
        fetch: async (request: Request, env: { incoming: { socket: { destroy(): void } } }) => {
          const answer = await serve(request);
          if (answer !== DROPPED) return answer;
          env.incoming.socket.destroy();
          return new Response(null, { status: 204 });
        },
      }) as Server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOptions.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      const ticker = setInterval(() => state.webhooks.kick(), DELIVERY_TICK_MS).unref();
      return {
        origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        close: () =>
          new Promise<void>((resolve, reject) => {
            clearInterval(ticker);
            server.close((error) => (error ? reject(error) : resolve()));
            server.closeAllConnections();
          }),
      };
    },
    baseUrl: (origin) => `${origin.replace(/\/+$/, '')}/${SHOP_PLACEHOLDER}`,
    grants: () => state.grants(),
    shop(domain) {
      const canonical = normalizeShop(domain);
      return canonical === null ? undefined : view(state, canonical);
    },
    install(shop, clientId, scopes) {
      const request = checkInstall(state, { shop, clientId, ...(scopes === undefined ? {} : { scopes }) });
      if (Array.isArray(request)) throw new ConfigError(request);
      installApp(state, request);
    },
    uninstall(shop, clientId) {
      uninstallApp(state, shop, clientId);
      state.webhooks.kick();
    },
    async triggerWebhook(shop, clientId, topic, payload, triggerOptions = {}) {
      const { headers } = triggerOptions;
      const request = orThrow(checkTrigger(state, { shop, clientId, topic, payload, headers }));
      const ids = createDeliveries(state, request);
      await state.webhooks.deliverDue(ids);
      return ids;
    },
    webhookDeliveries: () => state.webhooks.records(),
    deliverDueWebhooks: () => state.webhooks.deliverDue(),
    async redeliverWebhook(webhookId) {
      const attempt = await state.webhooks.redeliver(webhookId);
      if (!attempt) throw new ConfigError(['webhookId must be the id of a delivery']);
      return attempt;
    },
    requestFulfillment: async (shop, clientId, input) =>
      orThrow(await requestFulfillment(state, { ...input, shop, clientId })),
    requestCancellation: async (shop, clientId, fulfillmentOrderId) =>
      orThrow(await requestCancellation(state, { shop, clientId, fulfillmentOrderId })),
    fetchStock: async (shop, clientId, stockOptions = {}) =>
      orThrow(await fetchStock(state, { ...stockOptions, shop, clientId })),
    fetchTrackingNumbers: async (shop, clientId, orderNames, trackingOptions = {}) =>
      orThrow(await fetchTrackingNumbers(state, { ...trackingOptions, shop, clientId, orderNames })),
    clock: { now: clock.now, advance: clock.advance, set: clock.set },
    faults: { add: (rule) => faults.add(rule), clear: () => faults.clear() },
    requests: () => log.entries(),
    revokeRefreshTokens(shop, clientId) {
      state.expiring.revoke(checkTarget(state, shop, clientId), clientId);
    },
    setOrganizationApp(shop, clientId) {
      state.shop(checkTarget(state, shop, clientId)).organizationApps.add(clientId);
    },
  };
}
