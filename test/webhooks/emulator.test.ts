/**
 * Webhooks and fulfillment callbacks end to end against the emulator, in process: the emulator's
 * deliveries (each header family) reach the inbox and verify; uninstall, reinstall, then the late
 * retry of `app/uninstalled` leave the new install's tokens alone, and the reinstall runs
 * `afterAuth` again; a compliance delivery for a shop whose token is dead is answered 200 and its
 * hook runs; the fulfillment service registers itself, accepts a request with the offline token and
 * answers stock and tracking queries signed as observed.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { AfterAuthContext } from '../../src/auth/types.ts';
import { createEmulator, type EmulatorAppConfig } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { createWebhooks } from '../../src/webhooks/index.ts';
import { registerFulfillmentService, registerWebhooks } from '../../src/webhooks/register.ts';
import type { WebhookContext, WebhooksOptions } from '../../src/webhooks/types.ts';
import { Browser } from '../helpers/browser.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  appFetcher,
  createClock,
  EMULATOR_ORIGIN,
  emulatorFetch,
} from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';
const SCOPES = [
  'write_products',
  'write_fulfillments',
  'read_assigned_fulfillment_orders',
  'write_assigned_fulfillment_orders',
];
const COMPLIANCE = ['customers/data_request', 'customers/redact', 'shop/redact'];

function setup(
  options: { topics?: string[]; webhooks?: Partial<WebhooksOptions>; family?: 'x-shopify' | 'shopify' | 'both' } = {},
) {
  const clock = createClock();
  const vault = openVault({
    storage: createMemoryStorage(),
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: clock.now,
  });
  const webhooks = createWebhooks({ apiSecret: API_SECRET, vault, ...options.webhooks });
  const app: EmulatorAppConfig = {
    clientId: API_KEY,
    clientSecret: API_SECRET,
    redirectUrls: [`${APP_URL}/auth/callback`],
    webhooks: {
      apiVersion: '2026-10',
      headers: options.family ?? 'x-shopify',
      subscriptions: [
        {
          topics: options.topics ?? ['app/uninstalled', 'orders/create'],
          uri: `${APP_URL}/webhooks`,
          complianceTopics: COMPLIANCE,
        },
      ],
    },
  };
  let receiving = true;
  const emulator = createEmulator({
    apps: [app],
    now: clock.now,
    // Deliveries and callbacks reach the app's inbox in process; `receiving = false` is an app that is down.
    appFetch: async (url, init) => {
      if (!receiving) throw new TypeError('fetch failed (connection refused)');
      return (await webhooks.handle(new Request(url, init))) ?? new Response('not found', { status: 404 });
    },
  });
  const afterAuth: AfterAuthContext[] = [];
  const shoptoken = createShoptoken({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    scopes: SCOPES,
    appUrl: APP_URL,
    vault,
    shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
    fetch: emulatorFetch(emulator),
    now: clock.now,
    afterAuth: (ctx) => void afterAuth.push(ctx),
  });
  const install = async () => {
    const browser = new Browser({
      origins: { [APP_URL]: appFetcher(shoptoken), [EMULATOR_ORIGIN]: emulator.fetch },
      now: clock.now,
    });
    const consent = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(consent.status, 200, 'the consent page');
    const user = emulator.shop(SHOP)!.users[0]!.id;
    const landed = await browser.submit(consent, { name: 'action', value: 'install' }, { user_id: user });
    assert.equal(landed.status, 200, `landed on ${landed.url}`);
  };
  return {
    clock,
    vault,
    webhooks,
    emulator,
    afterAuth,
    install,
    setReceiving: (value: boolean) => {
      receiving = value;
    },
  };
}

describe('webhooks against the emulator', () => {
  for (const family of ['x-shopify', 'shopify', 'both'] as const) {
    it(`${family} deliveries verify, are acknowledged and run once (a duplicate too)`, async () => {
      const seen: WebhookContext[] = [];
      const s = setup({ family, webhooks: { handlers: { 'orders/create': (ctx) => void seen.push(ctx) } } });
      await s.install();
      const [id] = await s.emulator.triggerWebhook(SHOP, API_KEY, 'orders/create', { id: 1001 });
      await s.emulator.redeliverWebhook(id!);
      const delivery = s.emulator.webhookDeliveries().find((d) => d.id === id)!;
      assert.deepEqual(
        delivery.attempts.map((a) => a.status),
        [200, 200],
      );
      assert.equal(delivery.state, 'delivered');
      assert.deepEqual(await s.webhooks.drain(), { done: 1, retried: 0, dead: 0 });
      assert.deepEqual(
        seen.map((ctx) => [ctx.webhookId, ctx.topic, ctx.payload, ctx.triggeredAt?.raw, ctx.adminError]),
        [[id, 'orders/create', { id: 1001 }, delivery.triggeredAt, null]],
      );
      const { data } = await seen[0]!.admin.request<{ shop: { name: string } }>('{ shop { name } }');
      assert.ok(data?.shop.name, 'the handler’s Admin client works on the offline token');
    });
  }

  it('uninstall, reinstall, then the late retry of app/uninstalled: the new tokens survive', async () => {
    const s = setup();
    await s.install();
    assert.equal(s.afterAuth.length, 1);
    s.setReceiving(false); // the app is down when the merchant uninstalls
    s.emulator.uninstall(SHOP, API_KEY);
    await s.emulator.deliverDueWebhooks();
    const [uninstalled] = s.emulator.webhookDeliveries().filter((d) => d.topic === 'app/uninstalled');
    assert.equal(uninstalled?.state, 'pending', 'Shopify will retry');
    s.clock.advance(30_000);
    await s.install(); // the merchant installs again before the retry
    assert.equal(s.afterAuth.length, 2, 'a reinstall runs afterAuth again');
    const token = await s.vault.offline(SHOP);
    assert.ok(token);
    s.setReceiving(true);
    s.clock.advance(60_000);
    await s.emulator.deliverDueWebhooks();
    assert.equal(s.emulator.webhookDeliveries().find((d) => d.id === uninstalled.id)?.state, 'delivered');
    const seen: WebhookContext[] = [];
    const report = await s.webhooks.drain();
    assert.equal(report.done, 1);
    const kept = await s.vault.offline(SHOP);
    assert.equal(kept?.accessToken, token.accessToken, 'the late app/uninstalled deleted nothing');
    assert.equal(seen.length, 0);
    const { data } = await s.vault.admin(SHOP).request<{ shop: { name: string } }>('{ shop { name } }');
    assert.ok(data?.shop.name, 'and the kept token is the live one');
  });

  it('uninstall delivered on time deletes the tokens; the reinstall then runs the whole flow and afterAuth', async () => {
    const s = setup();
    await s.install();
    s.emulator.uninstall(SHOP, API_KEY);
    await s.emulator.deliverDueWebhooks();
    await s.webhooks.drain();
    assert.equal(await s.vault.offline(SHOP), null);
    assert.deepEqual(await s.vault.list({ shop: SHOP }), []);
    s.clock.advance(1000);
    await s.install();
    assert.equal(s.afterAuth.length, 2);
    assert.ok(await s.vault.offline(SHOP));
  });

  it('a compliance delivery for a shop whose token is dead: 200, the hook runs, adminError says why', async () => {
    const requests: WebhookContext[] = [];
    // Not subscribed to app/uninstalled: the vault still holds the revoked token.
    const s = setup({
      topics: ['orders/create'],
      webhooks: { compliance: { customersDataRequest: (ctx) => void requests.push(ctx as WebhookContext) } },
    });
    await s.install();
    s.clock.advance(2 * 3_600_000); // the access token expired; its refresh will be refused
    s.emulator.uninstall(SHOP, API_KEY);
    const payload = {
      shop_id: 1,
      shop_domain: SHOP,
      orders_requested: [],
      customer: { id: 7, email: null, phone: null },
      data_request: { id: 9 },
    };
    const [id] = await s.emulator.triggerWebhook(SHOP, API_KEY, 'customers/data_request', payload);
    assert.deepEqual(
      s.emulator
        .webhookDeliveries()
        .find((d) => d.id === id)
        ?.attempts.map((a) => a.status),
      [200],
    );
    assert.deepEqual(await s.webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.adminError?.code, 'ERR_NEEDS_REAUTH');
  });
});

describe('registerWebhooks against the emulator', () => {
  it('creates API subscriptions the emulator then delivers to, and reports Shopify’s refusals per topic', async () => {
    const seen: string[] = [];
    const s = setup({
      topics: [],
      webhooks: { handlers: { 'products/update': ({ topic }) => void seen.push(topic) } },
    });
    await s.install();
    const uri = `${APP_URL}/webhooks`;
    const results = await registerWebhooks(s.vault.admin(SHOP), [
      { topic: 'products/update', uri },
      { topic: 'PRODUCTS_UPDATE', uri },
    ]);
    assert.equal(results.length, 2);
    assert.ok(results[0]?.id, 'created');
    assert.deepEqual(results[0]?.errors, []);
    assert.equal(results[1]?.id, null, 'the same topic and address again: refused');
    assert.equal(results[1]?.errors.length, 1);
    await s.emulator.triggerWebhook(SHOP, API_KEY, 'products/update', { id: 3 });
    await s.webhooks.drain();
    assert.deepEqual(seen, ['products/update']);
  });
});

describe('a fulfillment service against the emulator', () => {
  it('registers, accepts a fulfillment request with the offline token, answers stock and tracking', async () => {
    const accepted: string[] = [];
    const ASSIGNED =
      '{ assignedFulfillmentOrders(first: 10, assignmentStatus: FULFILLMENT_REQUESTED) { nodes { id } } }';
    const ACCEPT =
      'mutation($id: ID!) { fulfillmentOrderAcceptFulfillmentRequest(id: $id) { fulfillmentOrder { id requestStatus } userErrors { message } } }';
    const s = setup({
      webhooks: {
        fulfillment: {
          onNotification: async ({ admin, payload }) => {
            assert.equal(payload.kind, 'FULFILLMENT_REQUEST');
            const { data } = await admin.request<{ assignedFulfillmentOrders: { nodes: { id: string }[] } }>(ASSIGNED);
            for (const { id } of data?.assignedFulfillmentOrders.nodes ?? []) {
              await admin.request(ACCEPT, { variables: { id } });
              accepted.push(id);
            }
          },
          fetchStock: ({ sku }) => (sku ? { [sku]: 12 } : { 'SKU-1': 12, 'SKU-2': 0 }),
          fetchTrackingNumbers: ({ orderNames }) => Object.fromEntries(orderNames.map((name) => [name, `TRK-${name}`])),
        },
      },
    });
    await s.install();
    const service = await registerFulfillmentService(s.vault.admin(SHOP), {
      name: 'Acme Fulfillment',
      callbackUrl: `${APP_URL}/fulfillment`,
      inventoryManagement: true,
      trackingSupport: true,
    });
    assert.deepEqual(service.errors, []);
    assert.ok(service.id && service.locationId);

    s.clock.advance(21 * 86_400_000); // weeks later; the offline token is refreshed on use
    const request = await s.emulator.requestFulfillment(SHOP, API_KEY, { lineItems: [{ sku: 'SKU-1', quantity: 2 }] });
    assert.equal(request.notification?.status, 200, 'acknowledged at once');
    await s.webhooks.drain();
    assert.deepEqual(accepted, [request.fulfillmentOrderId]);

    const stock = await s.emulator.fetchStock(SHOP, API_KEY, { sku: 'SKU-1' });
    assert.deepEqual([stock.status, stock.body], [200, { 'SKU-1': 12 }]);
    const all = await s.emulator.fetchStock(SHOP, API_KEY);
    assert.deepEqual(all.body, { 'SKU-1': 12, 'SKU-2': 0 });
    const tracking = await s.emulator.fetchTrackingNumbers(SHOP, API_KEY, [request.orderName]);
    assert.deepEqual(tracking.body, {
      tracking_numbers: { [request.orderName]: `TRK-${request.orderName}` },
      message: 'Successfully received the tracking numbers',
      success: true,
    });
  });
});
