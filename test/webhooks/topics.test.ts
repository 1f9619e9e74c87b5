/**
 * Shoptoken's own topics: `app/uninstalled` deletes the shop's tokens unless a newer install holds
 * them (a late delivery), `app/scopes_update` stores the new scopes, and the compliance topics reach
 * their hooks — `shop/redact` after erasing everything shoptoken kept for the shop.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomersRedactPayload, ShopRedactPayload, WebhookContext } from '../../src/webhooks/types.ts';
import { deliveryRequest, inbox, SHOP, saveToken } from './fixture.ts';

const OTHER = 'other-shop.myshopify.com';
const UNINSTALL_AT = '2026-12-01T10:00:00.123456789Z';

async function saveUser(vault: ReturnType<typeof inbox>['vault'], shop = SHOP): Promise<void> {
  await vault.saveOnline({
    shop,
    accessToken: 'shpua_online',
    scopes: ['read_orders'],
    associatedUserScopes: ['read_orders'],
    expiresAt: new Date(vault.now() + 86_000_000),
    user: {
      id: '42',
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane@example.com',
      emailVerified: true,
      accountOwner: true,
      locale: 'en',
      collaborator: false,
    },
  });
}

describe('built-in topics', () => {
  it("app/uninstalled deletes every token of the shop, then runs the app's handler without an Admin client", async () => {
    const seen: WebhookContext[] = [];
    const { webhooks, vault } = inbox({ handlers: { 'app/uninstalled': (ctx) => void seen.push(ctx) } });
    await saveToken(vault, SHOP, new Date(Date.parse(UNINSTALL_AT) - 60_000));
    await saveUser(vault);
    await saveToken(vault, OTHER);
    await webhooks.handle(deliveryRequest({ topic: 'app/uninstalled', triggeredAt: UNINSTALL_AT }));
    assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
    assert.equal(await vault.offline(SHOP), null);
    assert.equal(await vault.online(SHOP, '42'), null);
    assert.ok(await vault.offline(OTHER), 'other shops untouched');
    assert.deepEqual(seen[0]?.uninstall, { deleted: 2, reinstalled: false });
    assert.equal(seen[0]?.adminError?.code, 'ERR_NEEDS_REAUTH');
    assert.match(seen[0]?.adminError?.message ?? '', /uninstalled/);
  });

  it('a late app/uninstalled leaves the tokens of an install authorized after it', async () => {
    const seen: WebhookContext[] = [];
    const { webhooks, vault } = inbox({ handlers: { 'app/uninstalled': (ctx) => void seen.push(ctx) } });
    // Reinstalled a second after the uninstall event; its delivery arrives later still.
    await saveToken(vault, SHOP, new Date(Date.parse(UNINSTALL_AT) + 1000));
    await saveUser(vault);
    await webhooks.handle(deliveryRequest({ topic: 'app/uninstalled', triggeredAt: UNINSTALL_AT }));
    await webhooks.drain();
    assert.ok(await vault.offline(SHOP));
    assert.ok(await vault.online(SHOP, '42'));
    assert.deepEqual(seen[0]?.uninstall, { deleted: 0, reinstalled: true });
    assert.equal(seen[0]?.adminError, null, 'the new install’s token serves the handler');
  });

  it('app/uninstalled deletes a token of unknown origin (an import) and one without Triggered-At', async () => {
    const { webhooks, vault } = inbox();
    await saveToken(vault, SHOP, null);
    await webhooks.handle(deliveryRequest({ topic: 'app/uninstalled', triggeredAt: UNINSTALL_AT }));
    await saveToken(vault, OTHER, new Date(Date.parse(UNINSTALL_AT) + 1000));
    const body = JSON.stringify({ id: 2 });
    const request = deliveryRequest({ topic: 'app/uninstalled', shop: OTHER, body });
    request.headers.delete('x-shopify-triggered-at');
    assert.equal((await webhooks.handle(request))?.status, 200);
    await webhooks.drain();
    assert.equal(await vault.offline(SHOP), null);
    assert.equal(await vault.offline(OTHER), null, 'no event time: nothing proves the install newer');
  });

  it('app/scopes_update stores the scopes now granted', async () => {
    const { webhooks, vault } = inbox();
    await saveToken(vault, SHOP, new Date(Date.parse('2026-11-01T00:00:00Z')));
    const body = JSON.stringify({
      id: 1,
      previous: ['read_orders'],
      current: ['read_orders', 'write_products'],
      updated_at: '2026-12-01T09:59:00.000Z',
    });
    await webhooks.handle(deliveryRequest({ topic: 'app/scopes_update', body }));
    await webhooks.drain();
    assert.deepEqual((await vault.offline(SHOP))?.scopes, ['read_orders', 'write_products']);
  });

  it('app/scopes_update older than the authorization of the stored token changes nothing', async () => {
    const { webhooks, vault } = inbox();
    await saveToken(vault, SHOP, new Date(Date.parse('2026-12-01T09:59:30Z')));
    const body = JSON.stringify({
      id: 1,
      previous: [],
      current: ['read_products'],
      updated_at: '2026-12-01T09:59:00Z',
    });
    await webhooks.handle(deliveryRequest({ topic: 'app/scopes_update', body }));
    await webhooks.drain();
    assert.deepEqual((await vault.offline(SHOP))?.scopes, ['read_orders']);
  });

  it("shop/redact erases the shop's tokens and queued deliveries, then calls the hook with its payload", async () => {
    const redacted: ShopRedactPayload[] = [];
    const { webhooks, vault } = inbox({
      compliance: { shopRedact: ({ payload }) => void redacted.push(payload) },
      handlers: { 'orders/create': () => Promise.reject(new Error('keeps failing')) },
    });
    await saveToken(vault);
    await saveUser(vault);
    await saveToken(vault, OTHER);
    await webhooks.handle(deliveryRequest({ webhookId: 'order-of-shop' }));
    await webhooks.handle(deliveryRequest({ webhookId: 'order-of-other', shop: OTHER }));
    await webhooks.drain();
    const payload = { shop_id: 954889, shop_domain: SHOP };
    await webhooks.handle(
      deliveryRequest({ topic: 'shop/redact', body: JSON.stringify(payload), webhookId: 'redact' }),
    );
    await webhooks.drain();
    assert.deepEqual(redacted, [payload]);
    assert.equal(await vault.offline(SHOP), null);
    assert.equal(await vault.online(SHOP, '42'), null);
    const left = (await vault.webhookInbox()?.list({ limit: 10 }))?.map((r) => r.webhookId);
    assert.deepEqual(left, ['order-of-other', 'redact']);
    assert.ok(await vault.offline(OTHER));
  });

  it('shop/redact after a reinstall within its 48 hours erases nothing of the new install', async () => {
    const seen: WebhookContext[] = [];
    const { webhooks, vault } = inbox({ compliance: { shopRedact: (ctx) => void seen.push(ctx as WebhookContext) } });
    // Triggered 48 h after an uninstall at 2026-11-29T10:00Z; reinstalled a day after that uninstall.
    await saveToken(vault, SHOP, new Date(Date.parse('2026-11-30T10:00:00Z')));
    await webhooks.handle(deliveryRequest({ webhookId: 'pending-order' }));
    const body = JSON.stringify({ shop_id: 954889, shop_domain: SHOP });
    await webhooks.handle(deliveryRequest({ topic: 'shop/redact', body, triggeredAt: '2026-12-01T10:00:00Z' }));
    await webhooks.drain();
    assert.ok(await vault.offline(SHOP), 'the new install keeps its token');
    assert.deepEqual(seen[0]?.uninstall, { deleted: 0, reinstalled: true });
    assert.ok(await vault.webhookInbox()?.get('pending-order'), 'and its deliveries');
  });

  it('customers/data_request and customers/redact reach their hooks with typed payloads', async () => {
    const calls: string[] = [];
    let redact: CustomersRedactPayload | undefined;
    const { webhooks } = inbox({
      compliance: {
        customersDataRequest: ({ payload }) => void calls.push(`data_request ${payload.data_request.id}`),
        customersRedact: ({ payload }) => {
          redact = payload;
          calls.push('redact');
        },
      },
    });
    const customer = { id: 191167, email: 'john@example.com', phone: '555-625-1199' };
    const dataRequest = {
      shop_id: 954889,
      shop_domain: SHOP,
      orders_requested: [299938],
      customer,
      data_request: { id: 9999 },
    };
    const redactBody = { shop_id: 954889, shop_domain: SHOP, customer, orders_to_redact: [299938] };
    await webhooks.handle(deliveryRequest({ topic: 'customers/data_request', body: JSON.stringify(dataRequest) }));
    await webhooks.handle(deliveryRequest({ topic: 'customers/redact', body: JSON.stringify(redactBody) }));
    assert.deepEqual(await webhooks.drain(), { done: 2, retried: 0, dead: 0 });
    assert.deepEqual(calls.sort(), ['data_request 9999', 'redact']);
    assert.deepEqual(redact?.orders_to_redact, [299938]);
  });
});
