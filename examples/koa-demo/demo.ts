/**
 * The demo fulfillment service put together: the install flow (`createShoptoken`, its `afterAuth`
 * registering the service and the webhooks), the webhook inbox (`createWebhooks` with the topic
 * handlers, compliance hooks and fulfillment callbacks), the vault's keeper, and the Koa app with
 * its pages and the controls that play Shopify through the emulator. `scripts/start.ts` starts the
 * emulator, opens the vault on the emulator's clock and calls this.
 */

import type Koa from 'koa';
import {
  createShoptoken,
  createWebhooks,
  type Keeper,
  type Shoptoken,
  type ShoptokenConfig,
  type Vault,
  type Webhooks,
} from '../../src/index.ts';
import { createAccounts } from './accounts.ts';
import { createActivityLog } from './activity.ts';
import { createDemoApp } from './app.ts';
import { createControls, type DemoShopify } from './controls.ts';
import { inboxHandlers } from './fulfillment.ts';
import { installHooks } from './install.ts';
import { createWarehouse } from './warehouse.ts';

/** The scopes of a fulfillment service that also reads the shop's orders and customers. */
export const DEMO_SCOPES = [
  'write_products',
  'read_orders',
  'read_customers',
  'write_fulfillments',
  'read_assigned_fulfillment_orders',
  'write_assigned_fulfillment_orders',
];

export interface DemoServiceOptions {
  config: ShoptokenConfig;
  /** Opened on the emulator's clock, so "three weeks pass" moves it too. */
  vault: Vault;
  apiKey: string;
  apiSecret: string;
  appUrl: string;
  shopifyBaseUrl: string;
  emulatorOrigin: string;
  demoShops: readonly string[];
  /** The emulator, played through the demo controls. */
  shopify: DemoShopify;
  /** One line per install or sign-in. */
  log?: (line: string) => void;
}

export interface DemoService {
  app: Koa;
  shoptoken: Shoptoken;
  webhooks: Webhooks;
  keeper: Keeper;
  /** Starts the webhook worker and the keeper. */
  start(): void;
  /** Stops them, waiting for the runs in progress. */
  stop(): Promise<void>;
}

/**
 * @example
 * const demo = createDemoService({ config, vault, apiKey, apiSecret, appUrl, shopifyBaseUrl, emulatorOrigin, demoShops, shopify: emulator });
 * demo.start();
 * createServer(demo.app.callback()).listen(3000);
 */
export function createDemoService(options: DemoServiceOptions): DemoService {
  const { config, vault, apiKey, apiSecret, appUrl } = options;
  const now = vault.now;
  const activity = createActivityLog({ now });
  const accounts = createAccounts();
  const warehouse = createWarehouse();
  const hooks = installHooks({ vault, appUrl, accounts, activity, log: options.log });

  const shoptoken = createShoptoken({
    config,
    apiKey,
    apiSecret,
    scopes: DEMO_SCOPES,
    appUrl,
    vault,
    shopifyBaseUrl: options.shopifyBaseUrl,
    redirectAfterAuth: '/app',
    now,
    afterAuth: hooks.afterAuth,
    afterLogin: hooks.afterLogin,
  });
  const offlineExpiry = async (shop: string) => (await vault.offline(shop))?.expiresAt ?? null;
  const webhooks = createWebhooks({
    config,
    apiSecret,
    vault,
    ...inboxHandlers({ activity, warehouse, accounts, offlineExpiry }),
    onError: (error, { topic, shop, attempt }) =>
      activity.add(
        shop,
        'shoptoken',
        'retry',
        `The ${topic} handler failed (attempt ${attempt}; the inbox runs it again later): ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
  const keeper = vault.keeper();
  const controls = createControls({
    shopify: options.shopify,
    clientId: apiKey,
    activity,
    offline: (shop) => vault.offline(shop),
  });
  const app = createDemoApp({
    shoptoken,
    webhooks,
    scopes: DEMO_SCOPES,
    shopifyBaseUrl: options.shopifyBaseUrl,
    emulatorOrigin: options.emulatorOrigin,
    appUrl,
    demoShops: options.demoShops,
    accounts,
    activity,
    warehouse,
    controls,
    now,
  });
  return {
    app,
    shoptoken,
    webhooks,
    keeper,
    start() {
      webhooks.start();
      keeper.start();
    },
    async stop() {
      await Promise.all([webhooks.stop(), keeper.stop()]);
    },
  };
}
