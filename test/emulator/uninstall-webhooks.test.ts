/**
 * Uninstall and its webhooks (reference §6.4, §6.5): tokens die at once; `app/uninstalled` (the shop
 * as JSON) goes to every subscriber, API-created ones included, which are then deleted while the
 * configured ones stay; `shop/redact` follows 48 hours later on the emulator's clock and not a
 * millisecond sooner. The app can then be installed again through OAuth.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP, control, exchange, graphql, HOUR, install, SHOP } from './helpers.ts';
import { header, type Received } from './receiver.ts';
import { assertValid, gql, T0, webhookSetup } from './webhook-helpers.ts';

const QUERY = '{ shop { name } }';

async function oauthInstall(emulator: Parameters<typeof install>[0]): Promise<string> {
  return String((await exchange(emulator, (await install(emulator)).code)).access_token);
}

/** Installed through OAuth, with one more `app/uninstalled` subscription created through the API. */
async function installedWithApiSubscription() {
  const t = await webhookSetup(undefined, { topics: ['app/uninstalled'] });
  const token = await oauthInstall(t.emulator);
  const created = await gql(
    t.emulator,
    token,
    `mutation { webhookSubscriptionCreate(topic: APP_UNINSTALLED, webhookSubscription: { uri: "${t.receiver.origin}/api-hook" }) {
      userErrors { message } } }`,
  );
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  return { ...t, token };
}

const topics = (received: Received[]) => received.map((r) => header(r, 'x-shopify-topic'));

describe('uninstall sends app/uninstalled and schedules shop/redact', () => {
  it('revokes at once, delivers app/uninstalled to every subscriber, and deletes the API subscriptions', async () => {
    const { emulator, receiver, token } = await installedWithApiSubscription();
    try {
      emulator.uninstall(SHOP, APP.clientId);
      assert.equal((await graphql(emulator, token, QUERY)).status, 401, 'the token is revoked before any delivery');
      await emulator.deliverDueWebhooks();
      assert.deepEqual(
        receiver.received.map((r) => r.url),
        ['/webhooks', '/api-hook'],
      );
      const shop = emulator.shop(SHOP)!;
      const expected = { id: shop.id, name: shop.name, email: shop.email, domain: SHOP, myshopify_domain: SHOP };
      for (const received of receiver.received) {
        const delivery = await assertValid(received);
        assert.equal(delivery.topic, 'app/uninstalled');
        assert.deepEqual(delivery.payload, expected);
        assert.equal(delivery.triggeredAt?.epochMs, T0);
      }
      assert.equal(
        header(receiver.received[0]!, 'x-shopify-event-id'),
        header(receiver.received[1]!, 'x-shopify-event-id'),
        'one action, one event id',
      );
      const again = await oauthInstall(emulator);
      const listed = await gql(emulator, again, '{ webhookSubscriptions(first: 10) { nodes { id } } }');
      assert.deepEqual(listed.data.webhookSubscriptions.nodes, [], 'API subscriptions are gone');
    } finally {
      await receiver.close();
    }
  });

  it('shop/redact goes to the compliance subscription 48 hours later, not sooner', async () => {
    const { emulator, receiver, advance } = await webhookSetup();
    try {
      await oauthInstall(emulator);
      emulator.uninstall(SHOP, APP.clientId);
      await emulator.deliverDueWebhooks();
      assert.deepEqual(topics(receiver.received), ['app/uninstalled']);
      const scheduled = emulator.webhookDeliveries().find((d) => d.topic === 'shop/redact');
      assert.equal(scheduled?.state, 'pending');
      assert.equal(scheduled?.nextAttemptAt, T0 + 48 * HOUR);
      assert.deepEqual(scheduled?.attempts, []);
      advance(48 * HOUR - 1);
      await emulator.deliverDueWebhooks();
      assert.deepEqual(topics(receiver.received), ['app/uninstalled'], 'nothing a millisecond early');
      advance(1);
      await emulator.deliverDueWebhooks();
      assert.deepEqual(topics(receiver.received), ['app/uninstalled', 'shop/redact']);
      const redact = await assertValid(receiver.received[1]!);
      assert.deepEqual(redact.payload, { shop_id: emulator.shop(SHOP)!.id, shop_domain: SHOP });
      assert.equal(redact.triggeredAt?.epochMs, T0 + 48 * HOUR);
      assert.equal(
        receiver.received[1]!.body.toString('utf8'),
        `{"shop_id":${emulator.shop(SHOP)!.id},"shop_domain":"${SHOP}"}`,
      );
    } finally {
      await receiver.close();
    }
  });

  it('the app installs again through OAuth; configured subscriptions still receive', async () => {
    const { emulator, receiver } = await webhookSetup();
    try {
      const first = await oauthInstall(emulator);
      emulator.uninstall(SHOP, APP.clientId);
      assert.deepEqual(emulator.shop(SHOP)?.installations, {});
      const second = await oauthInstall(emulator);
      assert.notEqual(second, first);
      assert.equal((await graphql(emulator, second, QUERY)).status, 200);
      assert.equal((await graphql(emulator, first, QUERY)).status, 401, 'the old token stays revoked');
      assert.deepEqual(emulator.shop(SHOP)?.installations, {
        [APP.clientId]: ['write_products', 'read_orders', 'read_customers'],
      });
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', { id: 2 });
      emulator.uninstall(SHOP, APP.clientId);
      await emulator.deliverDueWebhooks();
      assert.deepEqual(topics(receiver.received), ['app/uninstalled', 'orders/create', 'app/uninstalled']);
    } finally {
      await receiver.close();
    }
  });

  it('uninstalling an app that is not installed sends nothing', async () => {
    const { emulator, receiver, advance } = await webhookSetup();
    try {
      emulator.uninstall(SHOP, APP.clientId);
      advance(49 * HOUR);
      await emulator.deliverDueWebhooks();
      assert.deepEqual(emulator.webhookDeliveries(), []);
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
    }
  });

  it('POST /_emulator/uninstall answers once app/uninstalled was attempted, with its ids', async () => {
    const { emulator, receiver } = await webhookSetup();
    try {
      emulator.install(SHOP, APP.clientId);
      const response = await control(emulator, 'uninstall', { shop: SHOP, clientId: APP.clientId });
      const body = (await response.json()) as { webhookIds: string[] };
      assert.equal(body.webhookIds.length, 1);
      assert.equal(receiver.received.length, 1);
      assert.equal(header(receiver.received[0]!, 'x-shopify-webhook-id'), body.webhookIds[0]);
    } finally {
      await receiver.close();
    }
  });
});
