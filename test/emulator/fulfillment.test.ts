/**
 * Fulfillment services (reference §8): `fulfillmentServiceCreate` (scope-checked), a fulfillment
 * request notified to `{callbackUrl}/fulfillment_order_notification` with a body HMAC that both
 * shopify-api and a recomputation accept, `assignedFulfillmentOrders` and the accept / reject /
 * cancellation answers through the Admin API, and the controls. The GET callbacks:
 * fulfillment-callbacks.test.ts.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { signWebhookBody } from '../../src/protocol/webhook.ts';
import { ASSIGNED, answerRequest, createService, STOCK, serviceSetup, withService } from './fulfillment-helpers.ts';
import { APP, control, graphql, SHOP } from './helpers.ts';
import { header } from './receiver.ts';
import { gql, nodeRequest, shopify } from './webhook-helpers.ts';

describe('fulfillmentServiceCreate', () => {
  it('creates a service with its location; a taken name is a userError', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      const service = await withService(emulator, token, callbackUrl);
      assert.match(service.id, /^gid:\/\/shopify\/FulfillmentService\/\d+$/);
      assert.match(service.location.id, /^gid:\/\/shopify\/Location\/\d+$/);
      assert.deepEqual(
        { ...service, id: 0, location: 0 },
        {
          id: 0,
          handle: 'emulated-3pl',
          serviceName: 'Emulated 3PL',
          callbackUrl,
          inventoryManagement: true,
          trackingSupport: true,
          location: 0,
        },
      );
      const again = await gql(emulator, token, createService('Emulated 3PL', callbackUrl));
      assert.deepEqual(again.data.fulfillmentServiceCreate, {
        fulfillmentService: null,
        userErrors: [{ field: ['name'], message: 'Name has already been taken' }],
      });
    } finally {
      await receiver.close();
    }
  });

  it('needs write_fulfillments (ACCESS_DENIED), and a live token (401)', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup('read_orders');
    try {
      const denied = await gql(emulator, token, createService('Nope', callbackUrl));
      assert.equal(denied.data.fulfillmentServiceCreate, null);
      assert.equal(denied.errors?.[0]?.extensions?.code, 'ACCESS_DENIED');
      assert.match(denied.errors?.[0]?.message ?? '', /`write_fulfillments` access scope/);
      const assigned = await gql(emulator, token, ASSIGNED('FULFILLMENT_REQUESTED'));
      assert.equal(assigned.errors?.[0]?.extensions?.code, 'ACCESS_DENIED');
      const unknown = await graphql(
        emulator,
        'shpat_00000000000000000000000000000000',
        createService('X', callbackUrl),
      );
      assert.equal(unknown.status, 401);
    } finally {
      await receiver.close();
    }
  });
});

describe('fulfillment requests', () => {
  it('notifies the service with a signed FULFILLMENT_REQUEST; the app lists and accepts it', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      await withService(emulator, token, callbackUrl);
      const result = await emulator.requestFulfillment(SHOP, APP.clientId, {
        lineItems: [
          { sku: 'SKU-1', quantity: 2 },
          { sku: 'SKU-2', quantity: 1 },
        ],
      });
      assert.equal(result.orderName, '#1004');
      assert.deepEqual(result.notification, {
        url: `${callbackUrl}/fulfillment_order_notification`,
        status: 200,
        outcome: 'ok',
        body: null,
      });
      const [notification] = receiver.received;
      assert.equal(notification!.method, 'POST');
      assert.equal(notification!.url, '/fs/fulfillment_order_notification');
      assert.equal(notification!.body.toString('utf8'), '{"kind":"FULFILLMENT_REQUEST"}');
      assert.equal(header(notification!, 'content-type'), 'application/json');
      assert.equal(header(notification!, 'x-shopify-shop-domain'), SHOP);
      assert.equal(
        header(notification!, 'x-shopify-hmac-sha256'),
        signWebhookBody(notification!.body, APP.clientSecret),
      );
      const peer = await shopify.fulfillmentService.validate({
        rawBody: notification!.body.toString('utf8'),
        ...nodeRequest(notification!.headers),
      });
      assert.equal(peer.valid, true, JSON.stringify(peer));

      const requested = await gql(emulator, token, ASSIGNED('FULFILLMENT_REQUESTED'));
      assert.deepEqual(requested.data.assignedFulfillmentOrders.nodes, [
        {
          id: result.fulfillmentOrderId,
          status: 'OPEN',
          requestStatus: 'SUBMITTED',
          order: { name: '#1004' },
          lineItems: {
            nodes: [
              { sku: 'SKU-1', remainingQuantity: 2 },
              { sku: 'SKU-2', remainingQuantity: 1 },
            ],
          },
        },
      ]);
      const accepted = await gql(
        emulator,
        token,
        answerRequest('fulfillmentOrderAcceptFulfillmentRequest', result.fulfillmentOrderId),
      );
      assert.deepEqual(accepted.data.fulfillmentOrderAcceptFulfillmentRequest, {
        fulfillmentOrder: { id: result.fulfillmentOrderId, status: 'IN_PROGRESS', requestStatus: 'ACCEPTED' },
        userErrors: [],
      });
      const twice = await gql(
        emulator,
        token,
        answerRequest('fulfillmentOrderAcceptFulfillmentRequest', result.fulfillmentOrderId),
      );
      assert.equal(twice.data.fulfillmentOrderAcceptFulfillmentRequest.fulfillmentOrder, null);
      assert.match(
        twice.data.fulfillmentOrderAcceptFulfillmentRequest.userErrors[0].message,
        /request status is ACCEPTED/,
      );
      assert.deepEqual(
        (await gql(emulator, token, ASSIGNED('FULFILLMENT_REQUESTED'))).data.assignedFulfillmentOrders.nodes,
        [],
      );
      const inProgress = await gql(emulator, token, ASSIGNED('FULFILLMENT_ACCEPTED'));
      assert.equal(inProgress.data.assignedFulfillmentOrders.nodes[0].id, result.fulfillmentOrderId);
      const missing = await gql(
        emulator,
        token,
        answerRequest('fulfillmentOrderAcceptFulfillmentRequest', 'gid://shopify/FulfillmentOrder/1'),
      );
      assert.deepEqual(missing.data.fulfillmentOrderAcceptFulfillmentRequest.userErrors, [
        { field: ['id'], message: 'Fulfillment order does not exist.' },
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('reject; and cancellation: requested, notified, accepted', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      await withService(emulator, token, callbackUrl);
      const lineItems = [{ sku: 'SKU-1', quantity: 1 }];
      const rejected = await emulator.requestFulfillment(SHOP, APP.clientId, { lineItems, orderName: '#R1' });
      const body = await gql(
        emulator,
        token,
        answerRequest('fulfillmentOrderRejectFulfillmentRequest', rejected.fulfillmentOrderId),
      );
      assert.deepEqual(body.data.fulfillmentOrderRejectFulfillmentRequest.fulfillmentOrder, {
        id: rejected.fulfillmentOrderId,
        status: 'OPEN',
        requestStatus: 'REJECTED',
      });
      await assert.rejects(emulator.requestCancellation(SHOP, APP.clientId, rejected.fulfillmentOrderId), ConfigError);

      const order = await emulator.requestFulfillment(SHOP, APP.clientId, { lineItems });
      await gql(emulator, token, answerRequest('fulfillmentOrderAcceptFulfillmentRequest', order.fulfillmentOrderId));
      const cancellation = await emulator.requestCancellation(SHOP, APP.clientId, order.fulfillmentOrderId);
      assert.equal(cancellation.notification?.status, 200);
      const notified = receiver.received.at(-1)!;
      assert.equal(notified.body.toString('utf8'), '{"kind":"CANCELLATION_REQUEST"}');
      assert.equal(header(notified, 'x-shopify-hmac-sha256'), signWebhookBody(notified.body, APP.clientSecret));
      const listed = await gql(emulator, token, ASSIGNED('CANCELLATION_REQUESTED'));
      assert.deepEqual(
        listed.data.assignedFulfillmentOrders.nodes.map((n: { id: string; status: string }) => [n.id, n.status]),
        [[order.fulfillmentOrderId, 'IN_PROGRESS']],
      );
      const accepted = await gql(
        emulator,
        token,
        answerRequest('fulfillmentOrderAcceptCancellationRequest', order.fulfillmentOrderId),
      );
      assert.deepEqual(accepted.data.fulfillmentOrderAcceptCancellationRequest.fulfillmentOrder, {
        id: order.fulfillmentOrderId,
        status: 'CLOSED',
        requestStatus: 'CANCELLATION_ACCEPTED',
      });
    } finally {
      await receiver.close();
    }
  });

  it('a service without callbackUrl gets no notification; bad input is refused with every problem', async () => {
    const { emulator, receiver, token } = await serviceSetup();
    try {
      await assert.rejects(
        emulator.requestFulfillment(SHOP, APP.clientId, { lineItems: [] }),
        /no such fulfillment service/,
      );
      await withService(emulator, token, null, 'inventoryManagement: false');
      const result = await emulator.requestFulfillment(SHOP, APP.clientId, { lineItems: [{ sku: 'A', quantity: 1 }] });
      assert.equal(result.notification, null);
      assert.equal(receiver.received.length, 0);
      await assert.rejects(
        emulator.requestFulfillment(SHOP, APP.clientId, { lineItems: [{ sku: '', quantity: 0 }], orderName: '#1004' }),
        (error) => {
          assert.ok(error instanceof ConfigError);
          assert.deepEqual(error.problems, [
            'lineItems must be 1 to 250 items { sku: string, quantity: integer from 1 }',
            `orderName #1004 is already taken on ${SHOP}`,
          ]);
          return true;
        },
      );
      await assert.rejects(emulator.fetchStock(SHOP, APP.clientId), /does not set inventoryManagement/);
    } finally {
      await receiver.close();
    }
  });
});

describe('fulfillment controls', () => {
  it('request and fetch-stock through /_emulator/fulfillment; bad input answers 400', async () => {
    const { emulator, receiver, token, callbackUrl } = await serviceSetup();
    try {
      await withService(emulator, token, callbackUrl);
      const bad = await control(emulator, 'fulfillment/request', { shop: SHOP, clientId: APP.clientId, extra: 1 });
      assert.deepEqual(await bad.json(), { error: 'invalid fulfillment request', problems: ['unknown field extra'] });
      const missing = await control(emulator, 'fulfillment/request', { shop: SHOP, clientId: APP.clientId });
      assert.equal(missing.status, 400);
      const requested = await control(emulator, 'fulfillment/request', {
        shop: SHOP,
        clientId: APP.clientId,
        lineItems: [{ sku: 'SKU-1', quantity: 1 }],
      });
      assert.equal(requested.status, 200);
      const { fulfillmentOrderId, notification } = (await requested.json()) as {
        fulfillmentOrderId: string;
        notification: { status: number };
      };
      assert.match(fulfillmentOrderId, /^gid:\/\/shopify\/FulfillmentOrder\/\d+$/);
      assert.equal(notification.status, 200);
      const stock = await control(emulator, 'fulfillment/fetch-stock', {
        shop: SHOP,
        clientId: APP.clientId,
        sku: 'SKU-1',
      });
      assert.deepEqual(((await stock.json()) as { body: unknown }).body, STOCK);
      emulator.uninstall(SHOP, APP.clientId);
      assert.equal((await graphql(emulator, token, ASSIGNED('FULFILLMENT_REQUESTED'))).status, 401);
      const after = await control(emulator, 'fulfillment/fetch-stock', { shop: SHOP, clientId: APP.clientId });
      assert.deepEqual(((await after.json()) as { problems: string[] }).problems, [
        `the app is not installed on ${SHOP}`,
      ]);
    } finally {
      await receiver.close();
    }
  });
});
