/**
 * The auth path, each check alone: which shops it accepts, Shopify's signed install request, the
 * iframe escape, the state it issues (random, single purpose) and the state cookie's attributes.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Shoptoken } from '../../src/auth/types.ts';
import { signQuery } from '../../src/protocol/hmac.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  createInstallFixture,
  EMULATOR_ORIGIN,
  SCOPES,
} from '../helpers/install-fixture.ts';
import { STATE_COOKIE } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const HOST = Buffer.from('admin.shopify.com/store/cool-shop').toString('base64').replace(/=+$/, '');

/** `GET /auth?shop=` straight on the handler: the redirect, its state and the state cookie. */
async function begin(st: Shoptoken, shop: string) {
  const response = await st.handle(new Request(`${APP_URL}/auth?shop=${shop}`));
  assert.equal(response?.status, 302);
  const location = new URL(response.headers.get('location')!);
  const setCookie = response.headers.getSetCookie()[0]!;
  const cookieValue = setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
  return { location, state: location.searchParams.get('state')!, setCookie, cookieValue };
}

/** An install request or admin launch as Shopify signs it, at the fixture's clock. */
function signed(now: number, params: Record<string, string>, secret = API_SECRET): URLSearchParams {
  const query = new URLSearchParams({ ...params, timestamp: String(Math.floor(now / 1000)) });
  query.set('hmac', signQuery(query, secret));
  return query;
}

describe('security: the auth path', () => {
  const invalidShops = [
    'evil.com',
    'cool-shop.myshopify.com/x',
    'a@cool-shop.myshopify.com',
    'cool-shop.myshopify.com:443',
    'https://cool-shop.myshopify.com',
    'cool-shop.myshopify.com.evil.com',
    'cool-shop.myshopify.com%2F..%2Fevil.com',
    '',
  ];
  for (const shop of invalidShops) {
    it(`rejects shop=${JSON.stringify(shop)} with 400 and sets nothing`, async () => {
      const f = createInstallFixture();
      const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?shop=${encodeURIComponent(shop)}`));
      assert.equal(response?.status, 400);
      assert.deepEqual(response.headers.getSetCookie(), []);
      assert.equal(response.headers.get('location'), null);
    });
  }

  it('rejects a missing or repeated shop', async () => {
    const f = createInstallFixture();
    for (const query of ['', `?shop=${SHOP}&shop=${OTHER_SHOP}`]) {
      const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth${query}`));
      assert.equal(response?.status, 400);
      assert.deepEqual(response.headers.getSetCookie(), []);
    }
  });

  it('accepts an upper-case shop and lower-cases it', async () => {
    const f = createInstallFixture();
    const { location } = await begin(f.shoptoken, 'Cool-Shop.MyShopify.COM');
    assert.equal(location.href.split('?')[0], `${EMULATOR_ORIGIN}/${SHOP}/admin/oauth/authorize`);
  });

  it('starts the offline leg with the exact authorize URL', async () => {
    const f = createInstallFixture();
    const { location, state } = await begin(f.shoptoken, SHOP);
    assert.deepEqual(Object.fromEntries(location.searchParams), {
      client_id: API_KEY,
      scope: SCOPES.join(','),
      redirect_uri: `${APP_URL}/auth/callback`,
      state,
    });
  });

  it('issues states of 32 random bytes, all distinct, not derived from the shop or the time', async () => {
    const f = createInstallFixture(); // the clock does not move: every /auth is for one shop at one instant
    const states = new Set<string>();
    let bitsSet = 0;
    for (let i = 0; i < 1000; i++) {
      const { state, cookieValue } = await begin(f.shoptoken, SHOP);
      const bytes = Buffer.from(state, 'base64url');
      assert.equal(bytes.length, 32, 'at least 16 random bytes: 32');
      assert.equal(bytes.toString('base64url'), state, 'canonical base64url');
      assert.equal(cookieValue.slice(0, cookieValue.lastIndexOf('.')), state, 'the cookie carries the same state');
      states.add(state);
      for (const byte of bytes) for (let bit = byte; bit > 0; bit >>= 1) bitsSet += bit & 1;
    }
    assert.equal(states.size, 1000);
    // Random bytes have half their bits set: over 256,000 bits, 50% +- 1% (ten standard deviations).
    const share = bitsSet / (1000 * 256);
    assert.ok(share > 0.49 && share < 0.51, `share of bits set: ${share}`);

    // Two fresh apps at the same clock time, for the same shop, still get different states.
    const again = await begin(createInstallFixture().shoptoken, SHOP);
    const fresh = await begin(createInstallFixture().shoptoken, SHOP);
    assert.notEqual(again.state, fresh.state);
    assert.notEqual(again.cookieValue, fresh.cookieValue);
  });

  it('never takes a redirect target from the query', async () => {
    const f = createInstallFixture();
    const query = new URLSearchParams({
      shop: SHOP,
      redirect_uri: 'https://evil.com/cb',
      return_to: 'https://evil.com',
      next: '//evil.com',
    });
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    const location = new URL(response!.headers.get('location')!);
    assert.equal(location.origin, EMULATOR_ORIGIN);
    assert.equal(location.searchParams.get('redirect_uri'), `${APP_URL}/auth/callback`);
    assert.doesNotMatch(location.href, /evil/);
  });

  it("accepts Shopify's signed install request (hmac + timestamp)", async () => {
    const f = createInstallFixture();
    const query = signed(f.clock.now(), { host: HOST, shop: SHOP });
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    assert.equal(response?.status, 302);
    assert.equal(response.headers.getSetCookie().length, 1);
  });

  it('rejects a signed install request with a bad hmac: 400, no cookie', async () => {
    const f = createInstallFixture();
    const query = signed(f.clock.now(), { host: HOST, shop: SHOP }, 'another-secret');
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    assert.equal(response?.status, 400);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.match(await response.text(), /hmac/);
  });

  it('rejects a signed install request with a stale timestamp: 400, no cookie', async () => {
    const f = createInstallFixture();
    const query = signed(f.clock.now() - 91_000, { shop: SHOP });
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    assert.equal(response?.status, 400);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('answers embedded=1 with the iframe-escape page, not a redirect', async () => {
    const f = createInstallFixture();
    const query = signed(f.clock.now(), { embedded: '1', host: HOST, shop: SHOP });
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    assert.equal(response?.status, 200);
    assert.equal(response.headers.get('location'), null);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const body = await response.text();
    const target = `${APP_URL}/auth?shop=${SHOP}`;
    assert.ok(body.includes(`window.top.location.href = ${JSON.stringify(target)}`));
    assert.ok(body.includes(`href="${target}" target="_top"`));
  });

  it('checks the hmac before escaping the iframe', async () => {
    const f = createInstallFixture();
    const query = signed(f.clock.now(), { embedded: '1', shop: SHOP });
    query.set('hmac', '0'.repeat(64));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    assert.equal(response?.status, 400);
  });

  it('answers 405 with Allow to anything but GET and HEAD, and ignores other paths', async () => {
    const f = createInstallFixture();
    for (const path of [`/auth?shop=${SHOP}`, '/auth/callback']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'get-ish']) {
        const response = await f.shoptoken.handle(new Request(`${APP_URL}${path}`, { method }));
        assert.equal(response?.status, 405, `${method} ${path}`);
        assert.equal(response.headers.get('allow'), 'GET, HEAD');
        assert.deepEqual(response.headers.getSetCookie(), []);
      }
    }
    for (const method of ['GET', 'HEAD', 'PUT']) {
      const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth/logout`, { method }));
      assert.equal(response?.status, 405, method);
      assert.equal(response.headers.get('allow'), 'POST');
    }
    assert.equal(await f.shoptoken.handle(new Request(`${APP_URL}/auth/`)), null);
    assert.equal(await f.shoptoken.handle(new Request(`${APP_URL}/authx?shop=${SHOP}`)), null);
    assert.deepEqual(await f.vault.list(), []);
  });

  it('answers HEAD without issuing a state: the checks that change nothing, then an empty 200', async () => {
    const f = createInstallFixture();
    let saved = 0;
    const st = f.create({
      stateStore: {
        save: async () => {
          saved++;
        },
        take: async () => null,
      },
    });
    const head = (query: string) => st.handle(new Request(`${APP_URL}/auth${query}`, { method: 'HEAD' }));
    const ok = await head(`?shop=${SHOP}`);
    assert.equal(ok?.status, 200);
    assert.equal(ok.body, null);
    assert.equal(ok.headers.get('location'), null);
    assert.deepEqual(ok.headers.getSetCookie(), []);
    assert.equal((await head('?shop=evil.com'))?.status, 400, 'the shop is checked');
    const badHmac = signed(f.clock.now(), { shop: SHOP }, 'another-secret');
    assert.equal((await head(`?${badHmac}`))?.status, 400, 'the signature is checked');
    assert.equal(saved, 0, 'no state issued');
    const get = await st.handle(new Request(`${APP_URL}/auth?shop=${SHOP}`));
    assert.equal(get?.status, 302);
    assert.equal(saved, 1, 'GET issues one (the baseline)');
  });

  it('sets the __Host- state cookie with exactly Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600', async () => {
    const f = createInstallFixture();
    const { setCookie } = await begin(f.shoptoken, SHOP);
    assert.match(setCookie, new RegExp(`^${STATE_COOKIE}=[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}; `));
    assert.equal(
      setCookie.replace(/=[^;]*/, '=V'),
      `${STATE_COOKIE}=V; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600`,
    );
  });

  it('drops Secure and the __Host- prefix only when cookieSecure is false', async () => {
    const f = createInstallFixture({ cookieSecure: false, appUrl: 'http://localhost:3000' });
    const response = await f.shoptoken.handle(new Request(`http://localhost:3000/auth?shop=${SHOP}`));
    const cookie = response!.headers.getSetCookie()[0]!.replace(/=[^;]+/, '=V');
    assert.equal(cookie, 'shoptoken_state=V; Path=/; HttpOnly; SameSite=Lax; Max-Age=600');
  });
});
