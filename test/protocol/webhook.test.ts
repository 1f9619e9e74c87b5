/**
 * Webhook verification (shopify-protocol §6): the HMAC of the raw body under the current or the
 * previous secret, both header families, every header checked, each refusal with its status — and
 * interop with `@shopify/shopify-api`: what we sign it validates, and what it would accept we accept.
 */
import '@shopify/shopify-api/adapters/node';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { createSHA256HMAC, HashFormat } from '@shopify/shopify-api/runtime';
import {
  parseTriggeredAt,
  signWebhookBody,
  verifyWebhook,
  type WebhookCheck,
  type WebhookHeaderFamily,
} from '../../src/protocol/webhook.ts';

const SECRET = 'webhook-secret-current';
const PREVIOUS = 'webhook-secret-previous';
const SHOP = 'cool-shop.myshopify.com';
const BODY = JSON.stringify({ shop_id: 954889, shop_domain: SHOP });
const TRIGGERED = '2026-05-11T15:06:59.110521905Z';

const PREFIX: Record<WebhookHeaderFamily, string> = { shopify: 'shopify-', 'x-shopify': 'x-shopify-' };

/** The headers of one family for `body`, signed with `secret`. */
function familyHeaders(family: WebhookHeaderFamily, body: string, secret = SECRET): Record<string, string> {
  const p = PREFIX[family];
  return {
    [`${p}hmac-sha256`]: signWebhookBody(body, secret),
    [`${p}topic`]: 'app/uninstalled',
    [`${p}shop-domain`]: SHOP,
    [`${p}webhook-id`]: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    [`${p}event-id`]: '98880550-7158-44d4-b7cd-2c97c8a091b5',
    [`${p}triggered-at`]: TRIGGERED,
    [`${p}api-version`]: '2026-01',
  };
}

function check(headers: Record<string, string>, body = BODY, options: { method?: string; max?: number } = {}) {
  return verifyWebhook(
    { method: options.method ?? 'POST', headers: new Headers(headers), body: new TextEncoder().encode(body) },
    { secrets: [SECRET, PREVIOUS], ...(options.max === undefined ? {} : { maxBodyBytes: options.max }) },
  );
}

function refused(result: WebhookCheck, status: number, reason: RegExp): void {
  assert.equal(result.ok, false, 'refused');
  if (result.ok) return;
  assert.equal(result.status, status, result.reason);
  assert.match(result.reason, reason);
}

describe('signWebhookBody', () => {
  it("matches the reference vector (secret 'hush')", () => {
    assert.equal(
      signWebhookBody('{"shop_id":954889,"shop_domain":"{shop}.myshopify.com"}', 'hush'),
      '1ZkWm9gpyI+Zsjon2nUm8nnAH7b3L7SlOH1XnEEuq7o=',
    );
  });
});

describe('parseTriggeredAt', () => {
  it('reads 0 to 9 fraction digits exactly, and offsets', () => {
    assert.equal(parseTriggeredAt(TRIGGERED)?.epochNs, 1_778_512_019_110_521_905n);
    assert.equal(parseTriggeredAt(TRIGGERED)?.epochMs, 1_778_512_019_110);
    assert.equal(parseTriggeredAt('2025-07-10T16:15:47.000000Z')?.epochMs, Date.parse('2025-07-10T16:15:47Z'));
    assert.equal(parseTriggeredAt('2025-07-10T16:15:47Z')?.epochNs, 1_752_164_147_000_000_000n);
    assert.equal(parseTriggeredAt('2025-07-10T16:15:47.5Z')?.epochNs, 1_752_164_147_500_000_000n);
    assert.equal(parseTriggeredAt('2025-07-10T18:15:47+02:00')?.epochMs, Date.parse('2025-07-10T16:15:47Z'));
    assert.equal(parseTriggeredAt('2025-07-10t16:15:47z')?.epochMs, Date.parse('2025-07-10T16:15:47Z'));
    assert.equal(parseTriggeredAt(TRIGGERED)?.raw, TRIGGERED);
    assert.equal(parseTriggeredAt('0050-03-01T00:00:00Z')?.epochMs, Date.parse('0050-03-01T00:00:00Z'));
    assert.equal(parseTriggeredAt('2024-02-29T00:00:00Z')?.epochMs, Date.parse('2024-02-29T00:00:00Z'));
    assert.equal(parseTriggeredAt('2023-02-29T00:00:00Z'), null);
    assert.equal(parseTriggeredAt('1900-02-29T00:00:00Z'), null);
    assert.equal(parseTriggeredAt('2000-02-29T00:00:00Z')?.epochMs, Date.parse('2000-02-29T00:00:00Z'));
  });

  it('refuses what is not an RFC 3339 date-time', () => {
    for (const bad of [
      '',
      '2025-07-10',
      '2025-07-10 16:15:47Z',
      '2025-07-10T16:15:47',
      '2025-07-10T16:15:47.1234567890Z',
      '2025-02-30T00:00:00Z',
      '2025-07-10T24:00:00Z',
      '2025-07-10T16:15:60Z',
      '2025-07-10T16:15:47+24:00',
      '0000-01-01T00:00:00Z',
      '1752164147',
      ' 2025-07-10T16:15:47Z',
    ]) {
      assert.equal(parseTriggeredAt(bad), null, bad);
    }
  });
});

describe('verifyWebhook', () => {
  for (const family of ['x-shopify', 'shopify'] as const) {
    it(`accepts a delivery in the ${family}-* family and reads every header`, () => {
      const result = check(familyHeaders(family, BODY));
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.deepEqual(
        { ...result.delivery, triggeredAt: result.delivery.triggeredAt?.raw },
        {
          family,
          topic: 'app/uninstalled',
          shop: SHOP,
          webhookId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
          eventId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
          triggeredAt: TRIGGERED,
          apiVersion: '2026-01',
          name: null,
          payload: { shop_id: 954889, shop_domain: SHOP },
        },
      );
    });
  }

  it('accepts the previous secret during a rotation, and no other', () => {
    assert.ok(check(familyHeaders('x-shopify', BODY, PREVIOUS)).ok);
    refused(check(familyHeaders('x-shopify', BODY, 'another-secret')), 401, /HMAC does not match/);
  });

  it('prefers shopify-* when both families are sent, and both HMACs must verify', () => {
    const both = { ...familyHeaders('x-shopify', BODY), ...familyHeaders('shopify', BODY) };
    const result = check(both);
    assert.ok(result.ok && result.delivery.family === 'shopify');
    const forgedClassic = { ...both, 'x-shopify-hmac-sha256': signWebhookBody(BODY, 'another-secret') };
    refused(check(forgedClassic), 401, /HMAC/);
    const forgedNew = { ...both, 'shopify-hmac-sha256': signWebhookBody('{}', SECRET) };
    refused(check(forgedNew), 401, /HMAC/);
  });

  it('refuses headers of the two families that disagree', () => {
    const both = { ...familyHeaders('x-shopify', BODY), ...familyHeaders('shopify', BODY) };
    refused(check({ ...both, 'x-shopify-topic': 'orders/create' }), 400, /disagree/);
    refused(check({ ...both, 'x-shopify-shop-domain': 'other-shop.myshopify.com' }), 400, /disagree/);
    // A field sent in one family only is taken from it.
    const { 'shopify-topic': _, ...withoutNewTopic } = both;
    assert.ok(check(withoutNewTopic).ok);
  });

  it('401 for a missing or malformed HMAC, or the HMAC of another body', () => {
    const headers = familyHeaders('x-shopify', BODY);
    const { 'x-shopify-hmac-sha256': _, ...unsigned } = headers;
    refused(check(unsigned), 401, /no HMAC/);
    for (const hmac of [
      '',
      'not base64',
      signWebhookBody(BODY, SECRET).slice(0, -2),
      Buffer.alloc(32).toString('hex'),
    ]) {
      refused(check({ ...headers, 'x-shopify-hmac-sha256': hmac }), 401, /HMAC/);
    }
    refused(check(headers, `${BODY} `), 401, /HMAC does not match/);
    // Header names are case-insensitive.
    assert.ok(check(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]))).ok);
  });

  it('405 for any method but POST, 413 above the body limit', () => {
    const headers = familyHeaders('x-shopify', BODY);
    for (const method of ['GET', 'PUT', 'HEAD', 'post']) refused(check(headers, BODY, { method }), 405, /POST/);
    refused(check(headers, BODY, { max: BODY.length - 1 }), 413, /larger/);
    assert.ok(check(headers, BODY, { max: BODY.length }).ok);
  });

  it('400 for a missing or malformed header, once the HMAC verified', () => {
    const headers = familyHeaders('x-shopify', BODY);
    const without = (name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    refused(check(without('x-shopify-topic')), 400, /topic/);
    refused(check(without('x-shopify-shop-domain')), 400, /shop domain/);
    refused(check(without('x-shopify-webhook-id')), 400, /webhook id/);
    for (const [name, value, reason] of [
      ['x-shopify-topic', 'app uninstalled', /topic/],
      ['x-shopify-shop-domain', 'evil.com', /shop domain/],
      ['x-shopify-shop-domain', `https://${SHOP}`, /shop domain/],
      ['x-shopify-shop-domain', `${SHOP}.evil.com`, /shop domain/],
      ['x-shopify-webhook-id', 'a b', /webhook id/],
      ['x-shopify-webhook-id', 'x'.repeat(256), /webhook id/],
      ['x-shopify-event-id', 'a,b', /event id/],
      ['x-shopify-api-version', '2026-1', /API version/],
      ['x-shopify-triggered-at', '2026-02-30T00:00:00Z', /triggered-at/],
    ] as const) {
      refused(check({ ...headers, [name]: value }), 400, reason);
    }
    // Optional headers may be absent.
    const minimal = without('x-shopify-event-id');
    delete minimal['x-shopify-triggered-at'];
    delete minimal['x-shopify-api-version'];
    const result = check(minimal);
    assert.ok(result.ok && result.delivery.eventId === null && result.delivery.triggeredAt === null);
    // The shop domain is read case-insensitively, and handed over in its canonical form.
    const upper = check({ ...headers, 'x-shopify-shop-domain': 'Cool-Shop.MyShopify.com' });
    assert.ok(upper.ok && upper.delivery.shop === SHOP);
  });

  it('400 for a body that is not JSON (or not UTF-8) under a valid HMAC', () => {
    for (const body of ['', '{', 'not json', '{"a":1}}']) {
      refused(check(familyHeaders('x-shopify', body), body), 400, /not JSON/);
    }
    const bytes = new Uint8Array([0x22, 0xff, 0x22]);
    const result = verifyWebhook(
      {
        method: 'POST',
        headers: new Headers({
          ...familyHeaders('x-shopify', ''),
          'x-shopify-hmac-sha256': signWebhookBody(bytes, SECRET),
        }),
        body: bytes,
      },
      { secrets: [SECRET] },
    );
    refused(result, 400, /not JSON/);
  });

  it('no refusal quotes a header value or the secret', () => {
    const headers = familyHeaders('x-shopify', BODY);
    const cases = [
      { ...headers, 'x-shopify-topic': 'SECRET-TOPIC value' },
      { ...headers, 'x-shopify-hmac-sha256': 'SECRET-HMAC' },
      { ...headers, 'x-shopify-shop-domain': 'SECRET.example' },
    ];
    for (const headers of cases) {
      const result = check(headers);
      assert.ok(!result.ok);
      assert.ok(!/SECRET|webhook-secret/.test(result.reason), result.reason);
    }
  });
});

describe('interop with @shopify/shopify-api webhooks.validate', () => {
  const shopify = shopifyApi({
    apiKey: 'interop-client-id',
    apiSecretKey: SECRET,
    scopes: ['write_products'],
    hostName: 'app.example.com',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { level: 0, log: async () => {} },
  });

  /** A node:http request carrying `headers`, as the peer's node adapter takes it. */
  function nodeRequest(headers: Record<string, string>) {
    const request = new IncomingMessage(new Socket());
    request.method = 'POST';
    request.url = '/webhooks';
    request.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    return { rawRequest: request, rawResponse: new ServerResponse(request) };
  }

  for (const family of ['x-shopify', 'shopify'] as const) {
    it(`validates what shoptoken signs (${family}-*), and shoptoken accepts the peer's signature`, async () => {
      const headers = familyHeaders(family, BODY);
      const peer = await shopify.webhooks.validate({ rawBody: BODY, ...nodeRequest(headers) });
      assert.equal(peer.valid, true, JSON.stringify(peer));
      const theirs = await createSHA256HMAC(SECRET, BODY, HashFormat.Base64);
      assert.equal(theirs, headers[`${PREFIX[family]}hmac-sha256`]);
      assert.ok(check({ ...headers, [`${PREFIX[family]}hmac-sha256`]: theirs }).ok);
      const bad = await shopify.webhooks.validate({
        rawBody: `${BODY} `,
        ...nodeRequest(headers),
      });
      assert.equal(bad.valid, false);
    });
  }
});
