/**
 * Webhook subscriptions through the Admin API: created (`uri` or the older `callbackUrl`), listed
 * in the shape shopify-api's `webhooks.register` reads (edges, endpoint, pageInfo), updated,
 * deleted, refused with userErrors — and they receive deliveries, with the app's API version.
 * Only the calling app's subscriptions on that shop are visible; unknown tokens get the 401.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP, exchange, graphql, install, SHOP } from './helpers.ts';
import { header } from './receiver.ts';
import { API_VERSION, assertValid, gql, webhookSetup } from './webhook-helpers.ts';

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

/** The query shopify-api's `webhooks.register` sends to read existing subscriptions. */
const SHOPIFY_API_READ = `query shopifyApiReadWebhookSubscriptions {
  webhookSubscriptions(first: 250, after: null) {
    edges { node { id topic includeFields metafieldNamespaces endpoint { __typename
      ... on WebhookHttpEndpoint { callbackUrl }
      ... on WebhookEventBridgeEndpoint { arn }
      ... on WebhookPubSubEndpoint { pubSubProject pubSubTopic } } } }
    pageInfo { endCursor hasNextPage }
  }
}`;

const run = gql;

const create = (topic: string, input: string) =>
  `mutation { webhookSubscriptionCreate(topic: ${topic}, webhookSubscription: { ${input} }) {
    webhookSubscription { id topic uri callbackUrl format apiVersion { handle } } userErrors { field message } } }`;

/** The app installed through OAuth (offline token), receiving only `app/uninstalled` from its configuration. */
async function installed() {
  const t = await webhookSetup(undefined, { topics: ['app/uninstalled'] });
  const token = String((await exchange(t.emulator, (await install(t.emulator)).code)).access_token);
  return { ...t, token };
}

describe('webhookSubscriptionCreate / webhookSubscriptions', () => {
  it('creates with uri or callbackUrl, lists them, and they receive deliveries', async () => {
    const { emulator, receiver, token } = await installed();
    try {
      const uri = `${receiver.origin}/api/orders`;
      const first = await run(emulator, token, create('ORDERS_CREATE', `uri: "${uri}"`));
      const created = first.data.webhookSubscriptionCreate;
      assert.deepEqual(created.userErrors, []);
      assert.match(created.webhookSubscription.id, /^gid:\/\/shopify\/WebhookSubscription\/\d+$/);
      assert.deepEqual(
        { ...created.webhookSubscription, id: undefined },
        {
          id: undefined,
          topic: 'ORDERS_CREATE',
          uri,
          callbackUrl: uri,
          format: 'JSON',
          apiVersion: { handle: API_VERSION },
        },
      );
      const second = await run(emulator, token, create('PRODUCTS_UPDATE', `callbackUrl: "${uri}"`));
      assert.deepEqual(second.data.webhookSubscriptionCreate.userErrors, []);

      const listed = await run(emulator, token, '{ webhookSubscriptions(first: 10) { nodes { topic uri } } }');
      assert.deepEqual(listed.data.webhookSubscriptions.nodes, [
        { topic: 'ORDERS_CREATE', uri },
        { topic: 'PRODUCTS_UPDATE', uri },
      ]);
      const filtered = await run(
        emulator,
        token,
        '{ webhookSubscriptions(first: 10, topics: [PRODUCTS_UPDATE]) { nodes { topic } } }',
      );
      assert.deepEqual(filtered.data.webhookSubscriptions.nodes, [{ topic: 'PRODUCTS_UPDATE' }]);

      const peer = await run(emulator, token, SHOPIFY_API_READ);
      assert.equal(peer.errors, undefined);
      const { edges, pageInfo } = peer.data.webhookSubscriptions;
      assert.deepEqual(edges[0].node.endpoint, { __typename: 'WebhookHttpEndpoint', callbackUrl: uri });
      assert.deepEqual(edges[0].node.includeFields, []);
      assert.equal(pageInfo.hasNextPage, false);

      const [id] = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', { id: 1 });
      const received = receiver.received.at(-1)!;
      assert.equal(received.url, '/api/orders');
      assert.equal(header(received, 'x-shopify-webhook-id'), id);
      assert.equal(header(received, 'x-shopify-api-version'), API_VERSION);
      await assertValid(received);
      assert.equal(emulator.webhookDeliveries()[0]?.subscription, created.webhookSubscription.id);
    } finally {
      await receiver.close();
    }
  });

  it('pages with first and after', async () => {
    const { emulator, receiver, token } = await installed();
    try {
      for (const topic of ['ORDERS_CREATE', 'ORDERS_PAID', 'ORDERS_UPDATED']) {
        await run(emulator, token, create(topic, `uri: "${receiver.origin}/w"`));
      }
      const pageOne = await run(
        emulator,
        token,
        '{ webhookSubscriptions(first: 2) { nodes { topic } pageInfo { hasNextPage endCursor } } }',
      );
      const { nodes, pageInfo } = pageOne.data.webhookSubscriptions;
      assert.deepEqual(nodes, [{ topic: 'ORDERS_CREATE' }, { topic: 'ORDERS_PAID' }]);
      assert.equal(pageInfo.hasNextPage, true);
      const query = `{ webhookSubscriptions(first: 2, after: "${pageInfo.endCursor}") { nodes { topic } pageInfo { hasNextPage } } }`;
      const pageTwo = await run(emulator, token, query);
      assert.deepEqual(pageTwo.data.webhookSubscriptions, {
        nodes: [{ topic: 'ORDERS_UPDATED' }],
        pageInfo: { hasNextPage: false },
      });
    } finally {
      await receiver.close();
    }
  });

  it('refuses a taken, invalid or blank address and XML with userErrors; compliance topics are not in the enum', async () => {
    const { emulator, receiver, token } = await installed();
    try {
      const uri = `${receiver.origin}/w`;
      await run(emulator, token, create('ORDERS_CREATE', `uri: "${uri}"`));
      const cases: [string, string, unknown][] = [
        [
          'ORDERS_CREATE',
          `uri: "${uri}"`,
          { field: ['webhookSubscription', 'uri'], message: 'Address for this topic has already been taken' },
        ],
        [
          'ORDERS_PAID',
          'callbackUrl: "not a url"',
          { field: ['webhookSubscription', 'callbackUrl'], message: 'Address is invalid' },
        ],
        ['ORDERS_PAID', 'uri: ""', { field: ['webhookSubscription', 'uri'], message: "Address can't be blank" }],
        [
          'ORDERS_PAID',
          `uri: "${uri}", format: XML`,
          { field: ['webhookSubscription', 'format'], message: 'The emulator delivers JSON only' },
        ],
      ];
      for (const [topic, input, error] of cases) {
        const body = await run(emulator, token, create(topic, input));
        assert.deepEqual(
          body.data.webhookSubscriptionCreate,
          { webhookSubscription: null, userErrors: [error] },
          input,
        );
      }
      const compliance = await run(emulator, token, create('SHOP_REDACT', `uri: "${uri}"`));
      assert.match(compliance.errors?.[0]?.message ?? '', /SHOP_REDACT/);
      const listed = await run(emulator, token, '{ webhookSubscriptions(first: 10) { nodes { topic } } }');
      assert.equal(listed.data.webhookSubscriptions.nodes.length, 1, 'nothing else was created');
    } finally {
      await receiver.close();
    }
  });

  it('updates and deletes; an unknown id gets a userError', async () => {
    const { emulator, receiver, token } = await installed();
    try {
      const created = await run(emulator, token, create('ORDERS_CREATE', `uri: "${receiver.origin}/old"`));
      const id = created.data.webhookSubscriptionCreate.webhookSubscription.id;
      const updated = await run(
        emulator,
        token,
        `mutation { webhookSubscriptionUpdate(id: "${id}", webhookSubscription: { uri: "${receiver.origin}/new" }) {
          webhookSubscription { uri } userErrors { message } } }`,
      );
      assert.deepEqual(updated.data.webhookSubscriptionUpdate, {
        webhookSubscription: { uri: `${receiver.origin}/new` },
        userErrors: [],
      });
      const remove = `mutation { webhookSubscriptionDelete(id: "${id}") { deletedWebhookSubscriptionId userErrors { field message } } }`;
      assert.deepEqual((await run(emulator, token, remove)).data.webhookSubscriptionDelete, {
        deletedWebhookSubscriptionId: id,
        userErrors: [],
      });
      assert.deepEqual((await run(emulator, token, remove)).data.webhookSubscriptionDelete, {
        deletedWebhookSubscriptionId: null,
        userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
      });
      const listed = await run(emulator, token, '{ webhookSubscriptions(first: 10) { nodes { id } } }');
      assert.deepEqual(listed.data.webhookSubscriptions.nodes, []);
    } finally {
      await receiver.close();
    }
  });

  it('answers 401 to an unknown token, and to the app’s token once uninstalled', async () => {
    const { emulator, receiver, token } = await installed();
    try {
      const mutation = create('ORDERS_CREATE', `uri: "${receiver.origin}/w"`);
      const query = '{ webhookSubscriptions(first: 10) { nodes { id } } }';
      for (const candidate of ['shpat_00000000000000000000000000000000', null]) {
        for (const operation of [mutation, query]) {
          const response = await graphql(emulator, candidate, operation);
          assert.equal(response.status, 401);
          assert.deepEqual(await response.json(), UNAUTHORIZED);
        }
      }
      emulator.uninstall(SHOP, APP.clientId);
      for (const operation of [mutation, query]) assert.equal((await graphql(emulator, token, operation)).status, 401);
      await emulator.deliverDueWebhooks();
    } finally {
      await receiver.close();
    }
  });
});
