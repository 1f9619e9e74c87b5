/**
 * Every security check of the install flow, each proved alone: the request is valid except for one
 * thing, and that one thing must give a 4xx that stores nothing. Removing any single check makes its
 * test fail, because the rest of the request would then succeed (the baseline test shows it does).
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { StateRecord, StateStore } from '../../src/auth/state-store.ts';
import { signQuery } from '../../src/protocol/hmac.ts';
import { createCallbackFixture, HOST, offlineBody, onlineBody } from '../helpers/callback.ts';
import { API_KEY, API_SECRET, APP_URL } from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const CODE = 'offline-code-0123456789abcdef';

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
      const f = createCallbackFixture();
      const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?shop=${encodeURIComponent(shop)}`));
      assert.equal(response?.status, 400);
      assert.deepEqual(response.headers.getSetCookie(), []);
      assert.equal(response.headers.get('location'), null);
    });
  }

  it('rejects a missing or repeated shop', async () => {
    const f = createCallbackFixture();
    for (const query of ['', `?shop=${SHOP}&shop=${OTHER_SHOP}`]) {
      const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth${query}`));
      assert.equal(response?.status, 400);
      assert.deepEqual(response.headers.getSetCookie(), []);
    }
  });

  it('accepts an upper-case shop and lower-cases it', async () => {
    const f = createCallbackFixture();
    const { location } = await f.begin('Cool-Shop.MyShopify.COM');
    assert.equal(location.origin, `https://${SHOP}`);
    assert.equal(location.pathname, '/admin/oauth/authorize');
  });

  it('starts the offline leg with a >= 128-bit single-purpose state and the exact authorize URL', async () => {
    const f = createCallbackFixture();
    const a = await f.begin(SHOP);
    const b = await f.begin(SHOP);
    assert.match(a.state, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.notEqual(a.state, b.state);
    assert.deepEqual(Object.fromEntries(a.location.searchParams), {
      client_id: API_KEY,
      scope: 'write_products,read_orders',
      redirect_uri: `${APP_URL}/auth/callback`,
      state: a.state,
    });
  });

  it('never takes a redirect target from the query', async () => {
    const f = createCallbackFixture();
    const query = new URLSearchParams({
      shop: SHOP,
      redirect_uri: 'https://evil.com/cb',
      return_to: 'https://evil.com',
      next: '//evil.com',
    });
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${query}`));
    const location = new URL(response!.headers.get('location')!);
    assert.equal(location.origin, `https://${SHOP}`);
    assert.equal(location.searchParams.get('redirect_uri'), `${APP_URL}/auth/callback`);
    assert.doesNotMatch(location.href, /evil/);
  });

  it("accepts Shopify's signed install request (hmac + timestamp)", async () => {
    const f = createCallbackFixture();
    const params = new URLSearchParams({ host: HOST, shop: SHOP, timestamp: String(f.clock.now() / 1000) });
    params.set('hmac', signQuery(params, API_SECRET));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${params}`));
    assert.equal(response?.status, 302);
    assert.equal(response.headers.getSetCookie().length, 1);
  });

  it('rejects a signed install request with a bad hmac: 400, no cookie', async () => {
    const f = createCallbackFixture();
    const params = new URLSearchParams({ host: HOST, shop: SHOP, timestamp: String(f.clock.now() / 1000) });
    params.set('hmac', signQuery(params, 'another-secret'));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${params}`));
    assert.equal(response?.status, 400);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.match(await response.text(), /hmac/);
  });

  it('rejects a signed install request with a stale timestamp: 400, no cookie', async () => {
    const f = createCallbackFixture();
    const params = new URLSearchParams({ shop: SHOP, timestamp: String(f.clock.now() / 1000 - 91) });
    params.set('hmac', signQuery(params, API_SECRET));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${params}`));
    assert.equal(response?.status, 400);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('answers embedded=1 with the iframe-escape page, not a redirect', async () => {
    const f = createCallbackFixture();
    const params = new URLSearchParams({
      embedded: '1',
      host: HOST,
      shop: SHOP,
      timestamp: String(f.clock.now() / 1000),
    });
    params.set('hmac', signQuery(params, API_SECRET));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${params}`));
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
    const f = createCallbackFixture();
    const params = new URLSearchParams({ embedded: '1', shop: SHOP, timestamp: String(f.clock.now() / 1000) });
    params.set('hmac', '0'.repeat(64));
    const response = await f.shoptoken.handle(new Request(`${APP_URL}/auth?${params}`));
    assert.equal(response?.status, 400);
  });

  it('answers 405 to anything but GET and ignores other paths', async () => {
    const f = createCallbackFixture();
    const post = await f.shoptoken.handle(new Request(`${APP_URL}/auth?shop=${SHOP}`, { method: 'POST' }));
    assert.equal(post?.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    assert.equal(await f.shoptoken.handle(new Request(`${APP_URL}/auth/`)), null);
    assert.equal(await f.shoptoken.handle(new Request(`${APP_URL}/authx?shop=${SHOP}`)), null);
  });
});

describe('security: the callback, one failing check at a time', () => {
  it('baseline: the untouched callback stores the offline token and chains to the per-user leg', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 302);
    const next = new URL(response.headers.get('location')!);
    assert.equal(next.origin, `https://${SHOP}`);
    assert.equal(next.searchParams.get('grant_options[]'), 'per-user');
    assert.equal((await f.vault.list()).length, 1);
    assert.deepEqual(f.calls[0]?.body, {
      client_id: API_KEY,
      client_secret: API_SECRET,
      code: CODE,
      expiring: '1',
    });
    assert.equal(f.calls[0]?.url, `https://${SHOP}/admin/oauth/access_token`);
  });

  /** Runs a callback that must fail and checks that nothing was stored or exchanged. */
  async function rejected(f: ReturnType<typeof createCallbackFixture>, response: Response, status: number) {
    assert.equal(response.status, status, await response.clone().text());
    assert.deepEqual(await f.vault.list(), []);
    assert.equal(f.calls.length, 0, 'no code exchange');
    assert.ok(
      response.headers.getSetCookie().some((c) => /^__Host-shoptoken_state=;.*Max-Age=0$/.test(c)),
      'the state cookie is cleared',
    );
  }

  /** The same state still completes afterwards: the failed request did not consume it. */
  async function stateStillUsable(f: ReturnType<typeof createCallbackFixture>, state: string, cookie: string) {
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 302);
    assert.equal((await f.vault.list()).length, 1);
  }

  for (const shop of ['evil.com', `${SHOP}/x`, `a@${SHOP}`, `${SHOP}:443`, `${SHOP}.evil.com`]) {
    it(`rejects callback shop=${JSON.stringify(shop)} (signed) with 400; the state survives`, async () => {
      const f = createCallbackFixture();
      const { state, cookie } = await f.begin(SHOP);
      await rejected(f, await f.callback(f.callbackUrl(f.params(shop, state, CODE)), cookie), 400);
      await stateStillUsable(f, state, cookie);
    });
  }

  it('accepts an upper-case callback shop as the same shop', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params('COOL-SHOP.myshopify.com', state, CODE)), cookie);
    assert.equal(response.status, 302);
    assert.equal((await f.vault.list())[0]?.shop, SHOP);
  });

  it('rejects a tampered hmac with 400; the state survives', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const url = new URL(f.callbackUrl(f.params(SHOP, state, CODE)));
    const hmac = url.searchParams.get('hmac')!;
    url.searchParams.set('hmac', `${hmac[0] === 'a' ? 'b' : 'a'}${hmac.slice(1)}`);
    await rejected(f, await f.callback(url.href, cookie), 400);
    await stateStillUsable(f, state, cookie);
  });

  it('rejects a callback without hmac with 400', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const url = `${APP_URL}/auth/callback?${new URLSearchParams(f.params(SHOP, state, CODE))}`;
    await rejected(f, await f.callback(url, cookie), 400);
  });

  it('rejects a callback signed with another secret with 400', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE), 'not-the-app-secret'), cookie), 400);
  });

  it('rejects a parameter changed after signing (code swapped) with 400', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const url = new URL(f.callbackUrl(f.params(SHOP, state, CODE)));
    url.searchParams.set('code', 'offline-code-of-the-attacker');
    await rejected(f, await f.callback(url.href, cookie), 400);
  });

  for (const skew of [-91, 91]) {
    it(`rejects a timestamp ${skew} s from now with 400; the state survives`, async () => {
      const f = createCallbackFixture();
      const { state, cookie } = await f.begin(SHOP);
      const timestamp = String(Math.floor(f.clock.now() / 1000) + skew);
      await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE, { timestamp })), cookie), 400);
      await stateStillUsable(f, state, cookie);
    });
  }

  it('accepts a timestamp 89 s old (inside the window)', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const timestamp = String(Math.floor(f.clock.now() / 1000) - 89);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE, { timestamp })), cookie);
    assert.equal(response.status, 302);
  });

  it('restarts the flow when the state cookie is missing: 302 to the auth path, nothing stored', async () => {
    const f = createCallbackFixture();
    const { state } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), null);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
    assert.deepEqual(await f.vault.list(), []);
    assert.equal(f.calls.length, 0);
  });

  it('rejects a state that differs from the cookie with 403', async () => {
    const f = createCallbackFixture();
    const first = await f.begin(SHOP);
    const second = await f.begin(SHOP); // a valid, pending state — but not this browser's
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, second.state, CODE)), first.cookie), 403);
  });

  it('rejects a repeated state parameter with 403', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const query = new URLSearchParams(f.params(SHOP, state, CODE));
    query.append('state', state);
    query.set('hmac', signQuery(query, API_SECRET));
    await rejected(f, await f.callback(`${APP_URL}/auth/callback?${query}`, cookie), 403);
  });

  it('rejects a replayed callback (state already used) with 403', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const url = f.callbackUrl(f.params(SHOP, state, CODE));
    assert.equal((await f.callback(url, cookie)).status, 302);
    const before = await f.vault.list();
    f.clock.advance(1000);
    const replay = await f.callback(url, cookie);
    assert.equal(replay.status, 403);
    assert.equal(f.calls.length, 1, 'the code is not exchanged twice');
    assert.deepEqual(await f.vault.list(), before);
  });

  it('rejects a state issued for shop A in a callback for shop B with 403', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    await rejected(f, await f.callback(f.callbackUrl(f.params(OTHER_SHOP, state, CODE)), cookie), 403);
  });

  it('rejects a state cookie with a bad signature with 403', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const [name, value] = cookie.split('=') as [string, string];
    const signature = value.slice(value.lastIndexOf('.') + 1);
    const forged = `${name}=${state}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), forged), 403);
  });

  it('rejects a state cookie without a signature with 403', async () => {
    const f = createCallbackFixture();
    const { state } = await f.begin(SHOP);
    const bare = `__Host-shoptoken_state=${state}`;
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), bare), 403);
  });

  it('rejects a state cookie signed with the raw client secret (keys are HKDF-derived) with 403', async () => {
    const f = createCallbackFixture();
    const { state } = await f.begin(SHOP);
    const raw = createHmac('sha256', API_SECRET).update(state).digest('base64url');
    const cookie = `__Host-shoptoken_state=${state}.${raw}`;
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie), 403);
  });

  it('rejects a state whose 10 minutes are up with 403, even with a fresh signature and cookie', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    f.clock.advance(601_000);
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie), 403);
  });

  it('rejects a state older than 10 minutes even when a shared store still returns it', async () => {
    const records = new Map<string, StateRecord>();
    const stateStore: StateStore = {
      async save(record) {
        records.set(record.state, record);
      },
      async take(state) {
        const record = records.get(state) ?? null;
        records.delete(state);
        return record;
      },
    };
    const f = createCallbackFixture({ stateStore });
    const { state, cookie } = await f.begin(SHOP);
    f.clock.advance(601_000);
    await rejected(f, await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie), 403);
  });

  it('rejects a callback without a code with 400', async () => {
    const f = createCallbackFixture();
    const { state, cookie } = await f.begin(SHOP);
    const params = f.params(SHOP, state, CODE);
    delete (params as Partial<typeof params>).code;
    await rejected(f, await f.callback(f.callbackUrl(params), cookie), 400);
  });

  it('rejects granted scopes narrower than configured with 403 and stores nothing', async () => {
    const f = createCallbackFixture({}, () => ({ body: offlineBody('write_products') }));
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 403);
    assert.match(await response.text(), /read_orders/);
    assert.deepEqual(await f.vault.list(), []);
  });

  it('accepts a write scope for a configured read scope (write implies read)', async () => {
    const f = createCallbackFixture({ scopes: 'read_products,read_orders' }, () => ({
      body: offlineBody('write_products,read_orders'),
    }));
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 302);
    assert.equal((await f.vault.list()).length, 1);
  });

  it('rejects an online token answered to the offline leg with 502', async () => {
    const f = createCallbackFixture({}, () => ({ body: onlineBody() }));
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 502);
    assert.deepEqual(await f.vault.list(), []);
  });

  it('rejects an offline token answered to the per-user leg with 502', async () => {
    const f = createCallbackFixture({}, () => ({ body: offlineBody() }));
    const first = await f.begin(SHOP);
    const chained = await f.callback(f.callbackUrl(f.params(SHOP, first.state, CODE)), first.cookie);
    const state = new URL(chained.headers.get('location')!).searchParams.get('state')!;
    const cookie = chained.headers.getSetCookie()[0]!.split(';')[0]!;
    const before = await f.vault.list();
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, 'online-code')), cookie);
    assert.equal(response.status, 502);
    assert.deepEqual(await f.vault.list(), before, 'no online token stored');
  });

  it("answers Shopify's OAuth error with 502 and a message without code, secret or values", async () => {
    const f = createCallbackFixture({}, () => ({
      status: 400,
      body: { error: 'invalid_request', error_description: `The authorization code ${CODE} was not found` },
    }));
    const { state, cookie } = await f.begin(SHOP);
    const url = f.callbackUrl(f.params(SHOP, state, CODE));
    const response = await f.callback(url, cookie);
    assert.equal(response.status, 502);
    const body = await response.text();
    assert.match(body, /invalid_request/);
    for (const secret of [CODE, API_SECRET, state, new URL(url).searchParams.get('hmac')!, cookie.split('=')[1]!]) {
      assert.ok(!body.includes(secret), 'no secret value in the message');
    }
    assert.deepEqual(await f.vault.list(), []);
  });

  it('answers a network failure of the token endpoint with 502', async () => {
    const f = createCallbackFixture({
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    const { state, cookie } = await f.begin(SHOP);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie);
    assert.equal(response.status, 502);
    assert.deepEqual(await f.vault.list(), []);
  });
});

describe('security: where the browser lands, and the cookies', () => {
  /** Runs both legs through the fake endpoint, with `extra` signed into the second callback. */
  async function completeInstall(f: ReturnType<typeof createCallbackFixture>, extra: Record<string, string> = {}) {
    const first = await f.begin(SHOP);
    const chained = await f.callback(f.callbackUrl(f.params(SHOP, first.state, CODE)), first.cookie);
    const state = new URL(chained.headers.get('location')!).searchParams.get('state')!;
    const cookie = chained.headers.getSetCookie()[0]!.split(';')[0]!;
    return f.callback(f.callbackUrl(f.params(SHOP, state, 'online-code', extra)), cookie);
  }

  it('lands on redirectAfterAuth on the app origin whatever the (even signed) query says', async () => {
    const f = createCallbackFixture({ redirectAfterAuth: '/app' });
    const response = await completeInstall(f, {
      host: Buffer.from('evil.com/admin').toString('base64'),
      redirect_uri: 'https://evil.com/',
      return_to: 'https://evil.com/',
      redirectAfterAuth: '//evil.com',
      next: '/\\evil.com',
    });
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.origin, APP_URL);
    assert.equal(location.pathname, '/app');
    assert.deepEqual(Object.fromEntries(location.searchParams), { shop: SHOP }, 'an invalid host is dropped');
  });

  it('passes a valid host on to the app', async () => {
    const f = createCallbackFixture();
    const response = await completeInstall(f);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.href, `${APP_URL}/?shop=${SHOP}&host=${HOST}`);
  });

  it('sets the __Host- cookies with exactly Path=/; HttpOnly; Secure; SameSite=Lax and a Max-Age', async () => {
    const f = createCallbackFixture();
    const { setCookie } = await f.begin(SHOP);
    assert.match(setCookie, /^__Host-shoptoken_state=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; /);
    assert.equal(
      setCookie.replace(/=[^;]*/, '=V'),
      '__Host-shoptoken_state=V; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600',
    );

    const final = await completeInstall(f);
    const cookies = final.headers.getSetCookie().map((c) => c.replace(/^([^=;]+)=[^;]+;/, '$1=V;'));
    assert.deepEqual(cookies, [
      '__Host-shoptoken_state=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0',
      '__Host-shoptoken_session=V; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=86399',
    ]);
  });

  it('drops Secure and the __Host- prefix only when cookieSecure is false', async () => {
    const f = createCallbackFixture({ cookieSecure: false, appUrl: 'http://localhost:3000' });
    const response = await f.shoptoken.handle(new Request(`http://localhost:3000/auth?shop=${SHOP}`));
    const cookie = response!.headers.getSetCookie()[0]!.replace(/=[^;]+/, '=V');
    assert.equal(cookie, 'shoptoken_state=V; Path=/; HttpOnly; SameSite=Lax; Max-Age=600');
  });

  it('the session cookie holds no token', async () => {
    const f = createCallbackFixture();
    const final = await completeInstall(f);
    const session = final.headers.getSetCookie()[1]!;
    for (const issued of f.issued) {
      const body = JSON.parse(issued) as { access_token: string; refresh_token?: string };
      assert.ok(!session.includes(body.access_token));
      if (body.refresh_token) assert.ok(!session.includes(body.refresh_token));
    }
    assert.match(
      session,
      new RegExp(`^__Host-shoptoken_session=${SHOP.replace(/\./g, '\\.')}\\.\\d+\\.\\d+\\.[\\w-]{43};`),
    );
  });
});

describe('security: secret rotation', () => {
  it('accepts a callback hmac made with the previous secret', async () => {
    const f = createCallbackFixture();
    const oldSecret = API_SECRET;
    const rotated = createShoptoken({
      apiKey: API_KEY,
      apiSecret: ['the-new-secret-0123456789', oldSecret],
      scopes: 'write_products,read_orders',
      appUrl: APP_URL,
      vault: f.vault,
      now: f.clock.now,
      fetch: (async () => Response.json(offlineBody())) as typeof fetch,
    });
    // A state started by the rotated instance, with a callback still signed with the old secret.
    const { state, cookie } = await f.begin(SHOP, rotated);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE), oldSecret), cookie, rotated);
    assert.equal(response.status, 302);
    assert.equal((await f.vault.list()).length, 1);
  });

  it('verifies a state cookie signed under the old secret after rotation', async () => {
    const { createMemoryStateStore } = await import('../../src/auth/state-store.ts');
    const f = createCallbackFixture();
    const stateStore = createMemoryStateStore({ now: f.clock.now });
    const common = {
      apiKey: API_KEY,
      scopes: 'write_products,read_orders',
      appUrl: APP_URL,
      vault: f.vault,
      now: f.clock.now,
      fetch: (async () => Response.json(offlineBody())) as typeof fetch,
      stateStore,
    };
    const before = createShoptoken({ ...common, apiSecret: API_SECRET });
    const after = createShoptoken({ ...common, apiSecret: ['the-new-secret-0123456789', API_SECRET] });
    const { state, cookie } = await f.begin(SHOP, before);
    const response = await f.callback(f.callbackUrl(f.params(SHOP, state, CODE)), cookie, after);
    assert.equal(response.status, 302);

    // Once the old secret is removed, its cookies no longer verify.
    const retired = createShoptoken({ ...common, apiSecret: 'the-new-secret-0123456789' });
    const next = await f.begin(SHOP, before);
    const refused = await f.callback(
      f.callbackUrl(f.params(SHOP, next.state, CODE), 'the-new-secret-0123456789'),
      next.cookie,
      retired,
    );
    assert.equal(refused.status, 403);
  });
});
