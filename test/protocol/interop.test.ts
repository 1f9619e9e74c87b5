/**
 * Interop with Shopify's own library: `@shopify/shopify-api` accepts the emulator's callback
 * signature, and shoptoken accepts queries signed the way that library signs them.
 */
import '@shopify/shopify-api/adapters/node';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { createEmulator } from '../../src/emulator/index.ts';
import { verifyQueryHmac } from '../../src/protocol/hmac.ts';
import { verifySignedQuery } from '../../src/protocol/signed-query.ts';

const apiKey = 'interop-client-id';
const apiSecretKey = 'interop-secret';
const redirectUri = 'https://app.example.com/auth/callback';

const shopify = shopifyApi({
  apiKey,
  apiSecretKey,
  scopes: ['write_products'],
  hostName: 'app.example.com',
  apiVersion: ApiVersion.October25,
  isEmbeddedApp: false,
  logger: { level: 0, log: async () => {} },
});

/** The peer's admin signing rule (hmac-validator.ts): keys sorted with localeCompare, URLSearchParams, `+` -> `%20`. */
function signLikeShopifyApi(params: Record<string, string>, secret: string): string {
  const sorted = new URLSearchParams();
  for (const key of Object.keys(params).sort((a, b) => a.localeCompare(b))) sorted.append(key, params[key]!);
  return createHmac('sha256', secret).update(sorted.toString().replace(/\+/g, '%20')).digest('hex');
}

describe('interop with @shopify/shopify-api', () => {
  it("accepts the emulator's OAuth callback signature", async () => {
    const emulator = createEmulator({
      apps: [{ clientId: apiKey, clientSecret: apiSecretKey, redirectUrls: [redirectUri] }],
    });
    const shop = 'interop-shop.myshopify.com';
    const owner = emulator.shop(shop)!.users.find((u) => u.accountOwner)!;
    const form = new URLSearchParams({
      client_id: apiKey,
      scope: 'write_products',
      redirect_uri: redirectUri,
      state: 'state-from-the-app-123',
      user_id: owner.id,
      action: 'install',
    });
    const response = await emulator.fetch(
      new Request(`http://emulator.test/${shop}/admin/oauth/authorize`, {
        method: 'POST',
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
    assert.equal(response.status, 302);
    const callback = new URL(response.headers.get('location')!);
    assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
    const query = Object.fromEntries(callback.searchParams);
    assert.deepEqual(Object.keys(query).sort(), ['code', 'hmac', 'host', 'shop', 'state', 'timestamp']);
    assert.equal(await shopify.utils.validateHmac(query), true);
    // and tampering is caught by the peer too, so the check above is not vacuous
    assert.equal(await shopify.utils.validateHmac({ ...query, state: 'other' }), false);
  });

  it('shoptoken accepts queries signed the way @shopify/shopify-api signs', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const cases: Record<string, string>[] = [
      { shop: 'some-shop.myshopify.com', timestamp, code: 'abc123', state: 'xyz' },
      {
        shop: 'some-shop.myshopify.com',
        timestamp,
        host: 'YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w',
        embedded: '1',
      },
      { shop: 'some-shop.myshopify.com', timestamp, custom: "hello world ~!'()*é&=+/" },
    ];
    for (const params of cases) {
      const hmac = signLikeShopifyApi(params, apiSecretKey);
      const query = { ...params, hmac };
      assert.equal(await shopify.utils.validateHmac(query), true, 'the model of the peer matches the peer');
      assert.equal(verifyQueryHmac(query, [apiSecretKey]), true, JSON.stringify(params));
      assert.equal(
        verifySignedQuery(new URLSearchParams(query), { secrets: [apiSecretKey], now: Date.now() }).ok,
        true,
      );
    }
  });
});
