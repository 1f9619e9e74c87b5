/**
 * Webhook deliveries (reference §6): the exact headers of each family, signed over the exact body
 * bytes, accepted by `@shopify/shopify-api` and by shoptoken's `verifyWebhook`; one delivery per
 * subscription sharing an event id; the controls under `/_emulator/webhooks`; the configuration
 * checked when the emulator is built. Retries: webhook-retries.test.ts.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { APP, control, HOUR, SHOP } from './helpers.ts';
import { header, startReceiver } from './receiver.ts';
import { API_VERSION, assertValid, T0, webhookApp, webhookSetup } from './webhook-helpers.ts';

const PAYLOAD = { id: 820982911946154500, name: '#9999', note: 'ünïcode ✓' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T0_HEADER = '2026-10-01T12:00:00.000000000Z';

const FAMILIES = {
  'x-shopify': [
    'x-shopify-topic',
    'x-shopify-hmac-sha256',
    'x-shopify-shop-domain',
    'x-shopify-api-version',
    'x-shopify-webhook-id',
    'x-shopify-event-id',
    'x-shopify-triggered-at',
  ],
  shopify: [
    'shopify-topic',
    'shopify-hmac-sha256',
    'shopify-shop-domain',
    'shopify-api-version',
    'shopify-webhook-id',
    'shopify-event-id',
    'shopify-triggered-at',
  ],
};

describe('webhook deliveries', () => {
  for (const family of ['x-shopify', 'shopify', 'both'] as const) {
    it(`${family}: exact headers and body, valid under shopify-api and verifyWebhook`, async () => {
      const { emulator, receiver } = await webhookSetup();
      try {
        emulator.install(SHOP, APP.clientId);
        const ids = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD, { headers: family });
        assert.equal(ids.length, 1);
        assert.equal(receiver.received.length, 1);
        const [received] = receiver.received;
        assert.equal(received!.method, 'POST');
        assert.equal(received!.url, '/webhooks');
        assert.equal(received!.body.toString('utf8'), JSON.stringify(PAYLOAD), 'the body is the JSON, byte for byte');
        assert.equal(header(received!, 'content-type'), 'application/json');
        const wanted = family === 'both' ? [...FAMILIES['x-shopify'], ...FAMILIES.shopify] : FAMILIES[family];
        const sent = Object.keys(received!.headers).filter((name) => name.includes('shopify'));
        assert.deepEqual(sent.sort(), [...wanted].sort());
        const prefix = family === 'shopify' ? 'shopify-' : 'x-shopify-';
        assert.equal(header(received!, `${prefix}topic`), 'orders/create');
        assert.equal(header(received!, `${prefix}shop-domain`), SHOP);
        assert.equal(header(received!, `${prefix}api-version`), API_VERSION);
        assert.equal(header(received!, `${prefix}webhook-id`), ids[0]);
        assert.match(header(received!, `${prefix}event-id`)!, UUID);
        assert.equal(header(received!, `${prefix}triggered-at`), T0_HEADER, 'RFC 3339, UTC, 9 fraction digits');
        const delivery = await assertValid(received!);
        assert.deepEqual(delivery.payload, PAYLOAD);
        assert.equal(delivery.webhookId, ids[0]);
        assert.equal(delivery.triggeredAt?.epochMs, T0);
        assert.equal(delivery.family, family === 'x-shopify' ? 'x-shopify' : 'shopify');
        const [record] = emulator.webhookDeliveries();
        assert.equal(record?.state, 'delivered');
        assert.deepEqual(record?.attempts, [{ at: T0, status: 200, outcome: 'delivered', duplicate: false }]);
      } finally {
        await receiver.close();
      }
    });
  }

  it("the app's configured header family applies unless the trigger chooses", async () => {
    const { emulator, receiver } = await webhookSetup(undefined, { webhooks: { headers: 'shopify' } });
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD, { headers: 'x-shopify' });
      assert.ok(header(receiver.received[0]!, 'shopify-hmac-sha256'));
      assert.equal(header(receiver.received[0]!, 'x-shopify-hmac-sha256'), undefined);
      assert.ok(header(receiver.received[1]!, 'x-shopify-hmac-sha256'));
      for (const received of receiver.received) await assertValid(received);
    } finally {
      await receiver.close();
    }
  });

  it('a wrong secret does not verify (the signature covers the body with the client secret)', async () => {
    const { emulator, receiver } = await webhookSetup();
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      await assert.rejects(assertValid(receiver.received[0]!, 'another-secret'));
    } finally {
      await receiver.close();
    }
  });

  it('one delivery per subscription, each with its own webhook id and one shared event id', async () => {
    const other = await startReceiver();
    const receiver = await startReceiver();
    try {
      const second = { topics: ['orders/create'], uri: `${other.origin}/hooks/orders` };
      const app = webhookApp(receiver);
      const emulator = createEmulator({
        apps: [{ ...app, webhooks: { ...app.webhooks!, subscriptions: [...app.webhooks!.subscriptions!, second] } }],
        now: () => T0,
      });
      emulator.install(SHOP, APP.clientId);
      const ids = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      assert.equal(ids.length, 2);
      assert.notEqual(ids[0], ids[1]);
      const [a, b] = [receiver.received[0]!, other.received[0]!];
      assert.equal(b.url, '/hooks/orders');
      assert.equal(header(a, 'x-shopify-event-id'), header(b, 'x-shopify-event-id'));
      assert.deepEqual([header(a, 'x-shopify-webhook-id'), header(b, 'x-shopify-webhook-id')], ids);
      const next = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      assert.notEqual(header(receiver.received[1]!, 'x-shopify-event-id'), header(a, 'x-shopify-event-id'));
      assert.equal(next.length, 2);
    } finally {
      await Promise.all([receiver.close(), other.close()]);
    }
  });

  it('refuses a bad trigger with every problem, and any topic on a shop without the app', async () => {
    const { emulator, receiver } = await webhookSetup();
    try {
      await assert.rejects(emulator.triggerWebhook('nope', 'nobody', 'Orders/Create', null as never), (error) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'shop must be a {name}.myshopify.com domain',
          'clientId must be the client id of a registered app',
          'topic must be a topic such as orders/create',
          'payload must be a JSON object or array',
        ]);
        return true;
      });
      await assert.rejects(emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', {}), /not installed/);
      // Compliance topics need no installation (shop/redact follows an uninstall).
      assert.equal((await emulator.triggerWebhook(SHOP, APP.clientId, 'customers/redact', { shop_id: 1 })).length, 1);
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });
});

describe('webhook controls', () => {
  it('trigger, list, redeliver and deliver-due through /_emulator/webhooks', async () => {
    const { emulator, receiver, advance } = await webhookSetup((_, n) => ({ status: n === 0 ? 500 : 200 }));
    try {
      emulator.install(SHOP, APP.clientId);
      const bad = await control(emulator, 'webhooks/trigger', { shop: SHOP, topic: 'x', extra: 1 });
      assert.equal(bad.status, 400);
      assert.deepEqual(((await bad.json()) as { problems: string[] }).problems, [
        'clientId must be the client id of a registered app',
        'topic must be a topic such as orders/create',
        'payload must be a JSON object or array',
        'unknown field extra',
      ]);
      const body = { shop: SHOP, clientId: APP.clientId, topic: 'orders/create', payload: PAYLOAD, headers: 'both' };
      const triggered = await control(emulator, 'webhooks/trigger', body);
      assert.equal(triggered.status, 200);
      const { webhookIds } = (await triggered.json()) as { webhookIds: string[] };
      assert.equal(webhookIds.length, 1);
      await assertValid(receiver.received[0]!);
      advance(HOUR);
      const due = await control(emulator, 'webhooks/deliver-due', {});
      assert.deepEqual(await due.json(), { pending: 0 });
      const redelivered = await control(emulator, 'webhooks/redeliver', { webhookId: webhookIds[0] });
      assert.equal(((await redelivered.json()) as { attempt: { duplicate: boolean } }).attempt.duplicate, true);
      assert.equal((await control(emulator, 'webhooks/redeliver', { webhookId: 'nope' })).status, 400);
      const list = (await (await emulator.fetch(new Request('http://emulator.test/_emulator/webhooks'))).json()) as {
        id: string;
        state: string;
        body: string;
        attempts: unknown[];
      }[];
      assert.equal(list[0]?.id, webhookIds[0]);
      assert.equal(list[0]?.state, 'delivered');
      assert.equal(list[0]?.body, JSON.stringify(PAYLOAD));
      assert.equal(list[0]?.attempts.length, 3);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a bad webhooks configuration with every problem', () => {
    assert.throws(
      () =>
        createEmulator({
          apps: [
            {
              ...APP,
              webhooks: {
                apiVersion: 'latest',
                headers: 'X' as never,
                subscriptions: [
                  { topics: ['shop/redact'], uri: 'ftp://x' },
                  { uri: 'https://app.example/w', complianceTopics: ['orders/create'] },
                  { uri: 'https://app.example/w' },
                ],
              },
            },
          ],
          appTimeoutMs: 0,
        }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'apps[0].webhooks.apiVersion must be YYYY-MM or unstable',
          'apps[0].webhooks.headers must be one of x-shopify, shopify, both',
          'apps[0].webhooks.subscriptions[0].uri must be an absolute http(s) URL',
          'apps[0].webhooks.subscriptions[0].topics must not hold compliance topics: put them in complianceTopics',
          'apps[0].webhooks.subscriptions[1].complianceTopics must be an array of customers/data_request, customers/redact, shop/redact',
          'apps[0].webhooks.subscriptions[2] needs at least one topic or compliance topic',
          'appTimeoutMs must be an integer from 1 to 60000',
        ]);
        return true;
      },
    );
  });
});
