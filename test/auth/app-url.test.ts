/**
 * The App URL at `/`: Shopify sends its install request and the embedded admin load there, signed
 * (`hmac`, `timestamp`, maybe `embedded=1`, `host`, …). Without a session, requireSession answers
 * them exactly as the auth path does — checking the signature and leaving the iframe — instead of a
 * bare redirect that would drop what Shopify sent.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signQuery } from '../../src/protocol/hmac.ts';
import { API_SECRET, APP_URL, createInstallFixture, EMULATOR_ORIGIN } from '../helpers/install-fixture.ts';
import { SESSION_COOKIE } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';
const HOST = Buffer.from('admin.shopify.com/store/cool-shop').toString('base64').replace(/=+$/, '');

/** `/` with a query as Shopify signs it at `now`. */
function appUrl(now: number, params: Record<string, string>): string {
  const query = new URLSearchParams({ ...params, shop: SHOP, timestamp: String(Math.floor(now / 1000)) });
  query.set('hmac', signQuery(query, API_SECRET));
  return `${APP_URL}/?${query}`;
}

/** What Shopify's admin adds to an embedded load. */
const EMBEDDED = { embedded: '1', host: HOST, id_token: 'eyJhbGciOi.x.y', locale: 'en', session: 'abc123' };

async function answer(result: unknown): Promise<Response> {
  assert.ok(result instanceof Response, 'requireSession answered with a Response');
  return result;
}

describe('requireSession at the App URL', () => {
  it('answers a bogus hmac with 400 and sets nothing', async () => {
    const f = createInstallFixture();
    const url = new URL(appUrl(f.clock.now(), EMBEDDED));
    url.searchParams.set('hmac', 'f'.repeat(64));
    const response = await answer(await f.shoptoken.requireSession(new Request(url)));
    assert.equal(response.status, 400);
    assert.match(await response.text(), /hmac/);
    assert.equal(response.headers.get('location'), null);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('answers a stale signed request with 400', async () => {
    const f = createInstallFixture();
    const response = await answer(await f.shoptoken.requireSession(new Request(appUrl(f.clock.now() - 91_000, {}))));
    assert.equal(response.status, 400);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('answers a valid signed embedded load with the iframe-escape page', async () => {
    const f = createInstallFixture();
    const response = await answer(await f.shoptoken.requireSession(new Request(appUrl(f.clock.now(), EMBEDDED))));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('location'), null);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.match(
      await response.text(),
      new RegExp(`window\\.top\\.location\\.href = "${APP_URL}/auth\\?shop=${SHOP}"`),
    );
  });

  it('starts the install for a valid signed install request: 302 to the authorize page, then installs', async () => {
    const f = createInstallFixture();
    const response = await answer(await f.shoptoken.requireSession(new Request(appUrl(f.clock.now(), { host: HOST }))));
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${EMULATOR_ORIGIN}/${SHOP}/admin/oauth/authorize`);
    assert.equal(response.headers.getSetCookie().length, 1, 'the state cookie');

    // The same through the browser, from the App URL to the signed-in app.
    const consent = await f.browser.navigate(appUrl(f.clock.now(), { host: HOST }));
    assert.equal(new URL(consent.url).origin, EMULATOR_ORIGIN);
    const page = await f.browser.submit(
      consent,
      { name: 'action', value: 'install' },
      { user_id: f.userId(SHOP, 'Olivia') },
    );
    assert.equal(page.status, 200);
    assert.equal(f.afterAuth.length, 1);
  });

  it('returns the session for a signed load when the browser is signed in to that shop', async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const cookie = `${SESSION_COOKIE}=${f.browser.jar.get(SESSION_COOKIE)!.value}`;
    const result = await f.shoptoken.requireSession(
      new Request(appUrl(f.clock.now(), EMBEDDED), { headers: { cookie } }),
    );
    assert.ok(!(result instanceof Response));
    assert.equal(result.shop, SHOP);
  });

  it("escapes the iframe for a signed embedded load whose session's online token expired", async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const cookie = `${SESSION_COOKIE}=${f.browser.jar.get(SESSION_COOKIE)!.value}`;
    f.clock.advance(86_400 * 1000);
    const request = new Request(appUrl(f.clock.now(), EMBEDDED), { headers: { cookie } });
    const response = await answer(await f.shoptoken.requireSession(request));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  });

  it('keeps the bare redirect for an unsigned, non-embedded ?shop=', async () => {
    const f = createInstallFixture();
    const response = await answer(await f.shoptoken.requireSession(new Request(`${APP_URL}/?shop=${SHOP}`)));
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
  });
});
