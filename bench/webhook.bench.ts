/**
 * In-process webhook verification: shoptoken's `verifyWebhook` (HMAC of the raw body, every header
 * checked, JSON parsed) vs `@shopify/shopify-api`'s `webhooks.validate` (HMAC and required headers,
 * through its node adapter, which is how an app calls it). Both start from what a `node:http`
 * server has: the raw body and the request's headers. Over HTTP, with dedupe and the queue, comes
 * with the webhook handler (issue 8 §8).
 */
import '@shopify/shopify-api/adapters/node';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { signWebhookBody, verifyWebhook } from '../src/protocol/webhook.ts';
import { compare, formatOps } from './measure.ts';

export async function webhookBench(): Promise<{ lines: string[]; ratio: number }> {
  const secret = 'shpss_00000000000000000000000000000000';
  const shopify = shopifyApi({
    apiKey: 'bench',
    apiSecretKey: secret,
    scopes: ['write_products'],
    hostName: 'app.example.com',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { level: 0, log: async () => {} },
  });
  // A typical small payload (an orders/create is larger; the HMAC is linear in it on both sides).
  const body = JSON.stringify({
    id: 820982911946154500,
    admin_graphql_api_id: 'gid://shopify/Order/820982911946154508',
    email: 'jon@example.com',
    total_price: '403.00',
    line_items: Array.from({ length: 3 }, (_, i) => ({ id: i, title: `Item ${i}`, quantity: 1, price: '199.00' })),
  });
  const rawHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-hmac-sha256': signWebhookBody(body, secret),
    'x-shopify-topic': 'orders/create',
    'x-shopify-shop-domain': 'bench-shop.myshopify.com',
    'x-shopify-api-version': '2026-01',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'x-shopify-triggered-at': '2026-05-11T15:06:59.110521905Z',
  };
  const bytes = Buffer.from(body);
  const rawRequest = new IncomingMessage(new Socket());
  rawRequest.method = 'POST';
  rawRequest.url = '/webhooks';
  rawRequest.headers = rawHeaders;
  const rawResponse = new ServerResponse(rawRequest);

  const results = await compare([
    {
      name: 'shoptoken verifyWebhook (HMAC, headers, JSON)',
      fn: () => {
        const headers = new Headers(rawHeaders);
        if (!verifyWebhook({ method: 'POST', headers, body: bytes }, { secrets: [secret] }).ok) {
          throw new Error('rejected');
        }
      },
    },
    {
      name: '@shopify/shopify-api webhooks.validate',
      fn: async () => {
        const result = await shopify.webhooks.validate({ rawBody: body, rawRequest, rawResponse });
        if (!result.valid) throw new Error('rejected');
      },
    },
  ]);
  const [ours, peer] = results as [(typeof results)[0], (typeof results)[0]];
  const ratio = ours.opsPerSecond / peer.opsPerSecond;
  return {
    ratio,
    lines: [
      '### Webhook verification in process (raw body + headers → verified delivery)',
      '',
      '| implementation | ops/s |',
      '|---|---|',
      ...results.map((r) => `| ${r.name} | ${formatOps(r.opsPerSecond)} |`),
      '',
      `shoptoken / peer: **${ratio.toFixed(1)}×** (target ≥ 20×); shoptoken also parses the JSON body, the peer does not.`,
    ],
  };
}
