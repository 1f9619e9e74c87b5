/**
 * Callback query verification (HMAC + shop + timestamp): shoptoken vs @shopify/shopify-api.
 */
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { signQuery } from '../src/protocol/hmac.ts';
import { verifySignedQuery } from '../src/protocol/signed-query.ts';
import { compare, formatOps } from './measure.ts';

export async function hmacBench(): Promise<{ lines: string[]; ratio: number }> {
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
  const params = new URLSearchParams({
    code: '0907a61c0c8d55e99db179b68161bc00',
    host: 'YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYmVuY2gtc2hvcA',
    shop: 'bench-shop.myshopify.com',
    state: 'c3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3RhdGU',
    timestamp: String(Math.floor(Date.now() / 1000)),
  });
  params.set('hmac', signQuery(params, secret));
  const query = params.toString();
  const record = Object.fromEntries(params);

  // Both sides start from what a server has: the raw query string.
  const results = await compare([
    {
      name: 'shoptoken verifySignedQuery',
      fn: () => {
        if (!verifySignedQuery(query, { secrets: [secret], now: Date.now() }).ok) throw new Error('rejected');
      },
    },
    {
      name: '@shopify/shopify-api validateHmac + sanitizeShop',
      fn: async () => {
        const q = Object.fromEntries(new URLSearchParams(query));
        if (!shopify.utils.sanitizeShop(q.shop!, true) || !(await shopify.utils.validateHmac(q)))
          throw new Error('rejected');
      },
    },
    {
      name: '@shopify/shopify-api validateHmac only',
      fn: async () => {
        if (!(await shopify.utils.validateHmac(record))) throw new Error('rejected');
      },
    },
  ]);
  const [ours, peer, peerHmacOnly] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  const ratio = ours.opsPerSecond / peer.opsPerSecond;
  return {
    ratio,
    lines: [
      '### Callback query verification (HMAC + shop + timestamp)',
      '',
      '| implementation | ops/s |',
      '|---|---|',
      ...results.map((r) => `| ${r.name} | ${formatOps(r.opsPerSecond)} |`),
      '',
      `shoptoken / peer: **${ratio.toFixed(1)}×** (target ≥ 5×); vs the peer's HMAC-only check: ${(ours.opsPerSecond / peerHmacOnly.opsPerSecond).toFixed(1)}×`,
    ],
  };
}
