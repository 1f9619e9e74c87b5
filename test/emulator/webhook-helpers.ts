/**
 * Shared setup for the webhook and fulfillment tests: an app whose configuration subscribes a
 * loopback receiver, and the two independent checks every delivery must pass — the peer library
 * (`@shopify/shopify-api`'s `webhooks.validate`, through its node adapter) and shoptoken's own
 * `verifyWebhook`.
 */
import '@shopify/shopify-api/adapters/node';
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import type { EmulatorAppConfig, EmulatorOptions, EmulatorWebhooksConfig } from '../../src/emulator/index.ts';
import { verifyWebhook, type WebhookDelivery } from '../../src/protocol/webhook.ts';
import { APP, graphql, setup } from './helpers.ts';
import { type Answer, type Received, type Receiver, startReceiver } from './receiver.ts';

export const T0 = Date.UTC(2026, 9, 1, 12, 0, 0);
export const SECOND = 1000;
export const API_VERSION = '2026-07';

/** The peer library, configured with the app's credentials. */
export const shopify = shopifyApi({
  apiKey: APP.clientId,
  apiSecretKey: APP.clientSecret,
  scopes: ['write_products'],
  hostName: 'app.example.com',
  apiVersion: ApiVersion.October25,
  isEmbeddedApp: false,
  logger: { level: 0, log: async () => {} },
});

/** A node:http request carrying `headers`, as the peer's node adapter takes it. */
export function nodeRequest(headers: IncomingHttpHeaders) {
  const request = new IncomingMessage(new Socket());
  request.method = 'POST';
  request.url = '/webhooks';
  request.headers = headers;
  return { rawRequest: request, rawResponse: new ServerResponse(request) };
}

/** The received headers as a fetch `Headers`. */
export function fetchHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return result;
}

/** Asserts that both the peer library and `verifyWebhook` accept the delivery; returns what shoptoken read. */
export async function assertValid(received: Received, secret = APP.clientSecret): Promise<WebhookDelivery> {
  const peer = await shopify.webhooks.validate({
    rawBody: received.body.toString('utf8'),
    ...nodeRequest(received.headers),
  });
  assert.equal(peer.valid, true, JSON.stringify(peer));
  const ours = verifyWebhook(
    { method: received.method, headers: fetchHeaders(received.headers), body: received.body },
    { secrets: [secret] },
  );
  assert.ok(ours.ok, ours.ok ? '' : ours.reason);
  return ours.delivery;
}

/** The app, subscribed (in its configuration) to `topics` and every compliance topic at `{origin}/webhooks`. */
export function webhookApp(
  receiver: Receiver,
  options: { topics?: string[]; webhooks?: Partial<EmulatorWebhooksConfig>; scopes?: string[] } = {},
): EmulatorAppConfig {
  return {
    ...APP,
    scopes: options.scopes ?? ['write_products', 'read_orders'],
    webhooks: {
      apiVersion: API_VERSION,
      subscriptions: [
        {
          topics: options.topics ?? ['app/uninstalled', 'orders/create'],
          uri: `${receiver.origin}/webhooks`,
          complianceTopics: ['customers/data_request', 'customers/redact', 'shop/redact'],
        },
      ],
      ...options.webhooks,
    },
  };
}

/** A receiver answering `answer`, and an emulator (frozen clock at {@link T0}) whose app it receives for. */
export async function webhookSetup(
  answer?: Answer,
  options: Parameters<typeof webhookApp>[1] & Partial<EmulatorOptions> = {},
) {
  const receiver = await startReceiver(answer);
  const { topics, webhooks, scopes, ...rest } = options;
  const t = setup({ apps: [webhookApp(receiver, { topics, webhooks, scopes })], ...rest });
  return { ...t, receiver };
}

/** A GraphQL answer, read by path in the tests. */
export interface GqlBody {
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and compared whole
  data: Record<string, any>;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs `query` with `token`; asserts HTTP 200 and answers the body. */
export async function gql(emulator: Parameters<typeof graphql>[0], token: string, query: string): Promise<GqlBody> {
  const response = await graphql(emulator, token, query);
  assert.equal(response.status, 200);
  return (await response.json()) as GqlBody;
}
