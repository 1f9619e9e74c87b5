/**
 * What the callback does with Shopify's answer, through the emulator: the granted scopes must cover
 * the app's (the user may edit the authorize URL), the token kind must match the leg, errors and
 * timeouts of the token endpoint store nothing; then where the browser lands, the cookies it gets,
 * and secret rotation.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStateStore } from '../../src/auth/state-store.ts';
import type { Shoptoken } from '../../src/auth/types.ts';
import type { FaultRule } from '../../src/emulator/index.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  appFetcher,
  createInstallFixture,
  EMULATOR_ORIGIN,
  isCallback,
} from '../helpers/install-fixture.ts';
import {
  assertRejected,
  authorizeUrlOf,
  perUserCallbackOf,
  resign,
  SESSION_COOKIE,
  STATE_COOKIE,
  snapshot,
  toEmulator,
} from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const INSTALL = { name: 'action', value: 'install' };
const NEW_SECRET = 'the-new-secret-0123456789';

/** A small HTML page, not cached, whose one link starts the flow again for the shop on the app's origin. */
function assertRestartPage(page: Page): void {
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.doesNotMatch(page.body, /<script/i);
  const links = [...page.body.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
  assert.deepEqual(links, [`${APP_URL}/auth?shop=${SHOP}`]);
}

describe('security: what Shopify granted', () => {
  it('rejects an install whose user narrowed the scope in the authorize URL with 403 and stores nothing', async () => {
    const f = createInstallFixture();
    const authorize = await authorizeUrlOf(f.browser, SHOP);
    authorize.searchParams.set('scope', 'write_products');
    const consent = await f.browser.navigate(authorize.href);
    const page = await f.browser.submit(consent, INSTALL, { user_id: f.userId(SHOP, 'Olivia') });

    assert.equal(page.status, 403, page.body);
    assert.ok(isCallback(new URL(page.url)));
    assert.match(page.body, /read_orders, read_customers/);
    assert.deepEqual(f.emulator.shop(SHOP)?.installations, { [f.shoptoken.options.apiKey]: ['write_products'] });
    assert.deepEqual(
      f.emulator.grants().map((g) => [g.accessMode, g.status]),
      [['offline', 200]],
      'the emulator granted what was asked',
    );
    assert.deepEqual(await f.vault.list(), []);
    assert.equal(f.afterAuth.length + f.afterLogin.length, 0);
  });

  it('accepts a write scope for a configured read scope (write implies read)', async () => {
    const f = createInstallFixture({ scopes: 'read_products,read_orders' });
    const authorize = await authorizeUrlOf(f.browser, SHOP);
    authorize.searchParams.set('scope', 'write_products,read_orders');
    const consent = await f.browser.navigate(authorize.href);
    const page = await f.browser.submit(consent, INSTALL, { user_id: f.userId(SHOP, 'Olivia') });
    assert.equal(page.status, 200, page.body);
    assert.deepEqual((await f.vault.offline(SHOP))?.scopes, ['write_products', 'read_orders']);
  });

  it('rejects an online token answered to the offline leg (per-user added to the URL) with a 400 restart page', async () => {
    const f = createInstallFixture();
    const authorize = await authorizeUrlOf(f.browser, SHOP);
    authorize.searchParams.set('grant_options[]', 'per-user');
    const consent = await f.browser.navigate(authorize.href);
    const page = await f.browser.submit(consent, INSTALL, { user_id: f.userId(SHOP, 'Olivia') });
    assert.equal(page.status, 400, page.body);
    assertRestartPage(page);
    assert.match(page.body, /online access token where this step asked for an offline one/);
    assert.ok(isCallback(new URL(page.url)));
    assert.deepEqual(
      f.emulator.grants().map((g) => g.accessMode),
      ['online'],
    );
    assert.deepEqual(await f.vault.list(), []);
  });

  it('rejects an offline token answered to the per-user leg (per-user removed from the URL) with a 400 restart page', async () => {
    const f = createInstallFixture();
    const offlineCallback = await f.callbackOfInstall(SHOP);
    const chained = await f.browser.navigate(offlineCallback.href, { stopBefore: toEmulator });
    const authorize = new URL(chained.headers.get('location')!);
    authorize.searchParams.delete('grant_options[]');
    const before = await f.vault.list();
    const page = await f.browser.navigate(authorize.href);
    assert.equal(page.status, 400, page.body);
    assertRestartPage(page);
    assert.ok(isCallback(new URL(page.url)));
    assert.deepEqual(await f.vault.list(), before, 'no online token stored, the offline token not replaced');
    assert.equal(f.browser.jar.get(SESSION_COOKIE), undefined, 'not signed in');
    assert.equal(f.afterAuth.length, 0);
  });
});

describe('security: when the token endpoint fails', () => {
  it('answers a code Shopify refuses (expired) with a 400 restart page without code, secret or values', async () => {
    const f = createInstallFixture();
    const callback = await f.callbackOfInstall(SHOP);
    const before = await snapshot(f);
    f.clock.advance(61_000); // the code lives 60 s; the callback's timestamp is still fresh
    const page = await f.browser.navigate(callback.href);
    assert.equal(page.status, 400);
    assertRestartPage(page);
    assert.match(page.body, /Shopify answered invalid_request, HTTP 400/);
    const secrets = [API_SECRET, ...['code', 'state', 'hmac'].map((k) => callback.searchParams.get(k)!)];
    for (const secret of secrets) assert.ok(!page.body.includes(secret), 'no secret value in the message');
    assert.equal(f.browser.jar.get(STATE_COOKIE), undefined, 'the state cookie is cleared');
    assert.deepEqual(await f.vault.list(), before.tokens);
    assert.deepEqual(
      f.emulator.grants().map((g) => g.status),
      [400],
      'no successful grant',
    );
  });

  it('answers a code already used (a replayed callback with a fresh state) with a 400 restart page', async () => {
    const f = createInstallFixture();
    const callback = await f.callbackOfInstall(SHOP);
    const code = callback.searchParams.get('code')!;
    await f.emulator.fetch(
      new Request(`${EMULATOR_ORIGIN}/${SHOP}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: API_KEY, client_secret: API_SECRET, code }),
      }),
    ); // someone else used it first
    const before = await snapshot(f);
    const page = await f.browser.navigate(callback.href);
    await assertRejected(f, page, 400, { ...before, grants: before.grants + 1 });
    assertRestartPage(page);
  });

  it("answers invalid_client (the app's own credentials) with 500 naming the settings, never their values", async () => {
    const wrong = 'a-wrong-secret-0123456789';
    const f = createInstallFixture({ apiSecret: [wrong, API_SECRET] });
    const callback = await f.callbackOfInstall(SHOP);
    const before = await snapshot(f);
    const page = await f.browser.navigate(callback.href);
    await assertRejected(f, page, 500, { ...before, grants: before.grants + 1 });
    assert.match(page.body, /invalid_client/);
    assert.match(page.body, /SHOPIFY_API_KEY and SHOPIFY_API_SECRET/);
    for (const secret of [wrong, API_SECRET, callback.searchParams.get('code')!]) {
      assert.ok(!page.body.includes(secret), 'no secret value in the message');
    }
  });

  const upstreamFailures: [string, Omit<FaultRule, 'endpoint'>, number, RegExp][] = [
    ['a 5xx', { status: 503 }, 502, /Shopify failed to finish signing in \(HTTP 503\)/],
    ['a 429', { status: 429 }, 502, /HTTP 429/],
    ['a 404 (ambiguous)', { status: 404 }, 502, /unexpected response \(.*HTTP 404\)/],
    ['a success without access_token (malformed)', { omitFields: ['access_token'] }, 502, /unexpected response/],
  ];
  for (const [what, rule, status, pattern] of upstreamFailures) {
    it(`answers ${what} from the token endpoint with ${status} and a restart link, storing nothing`, async () => {
      const f = createInstallFixture();
      const callback = await f.callbackOfInstall(SHOP);
      f.emulator.faults.add({ endpoint: 'token', ...rule });
      const before = await snapshot(f);
      const page = await f.browser.navigate(callback.href);
      assert.equal(page.status, status, page.body);
      assertRestartPage(page);
      assert.match(page.body, pattern);
      assert.deepEqual(await f.vault.list(), before.tokens);
    });
  }

  it('answers a network failure of the token endpoint with 502', async () => {
    const f = createInstallFixture({
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    const callback = await f.callbackOfInstall(SHOP);
    const before = await snapshot(f);
    const page = await f.browser.navigate(callback.href);
    await assertRejected(f, page, 502, before);
    assertRestartPage(page);
    assert.match(page.body, /Could not reach Shopify/);
  });

  it('answers 504 when the token endpoint does not answer within exchangeTimeoutMs', async () => {
    const signals: AbortSignal[] = [];
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        if (!signal) return reject(new TypeError('no deadline: this request would hang forever'));
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason));
      })) as typeof fetch;
    const f = createInstallFixture({ fetch: hanging, exchangeTimeoutMs: 20 });
    const callback = await f.callbackOfInstall(SHOP);
    const before = await snapshot(f);
    const page = await f.browser.navigate(callback.href);
    await assertRejected(f, page, 504, before);
    assertRestartPage(page);
    assert.match(page.body, /Shopify did not answer in time/);
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.aborted, true);
  });
});

describe('security: where the browser lands, and the cookies', () => {
  it('lands on redirectAfterAuth on the app origin whatever the (even signed) query says', async () => {
    const f = createInstallFixture({ redirectAfterAuth: '/app' });
    const callback = await perUserCallbackOf(f.browser, await f.callbackOfInstall(SHOP));
    const tampered = resign(callback, {
      host: Buffer.from('evil.com/admin').toString('base64'),
      redirect_uri: 'https://evil.com/',
      return_to: 'https://evil.com/',
      redirectAfterAuth: '//evil.com',
      next: '/\\evil.com',
    });
    const page = await f.browser.navigate(tampered, { stopBefore: (url) => !isCallback(url) });
    assert.equal(page.status, 302);
    const location = new URL(page.headers.get('location')!);
    assert.equal(location.origin, APP_URL);
    assert.equal(location.pathname, '/app');
    assert.deepEqual(Object.fromEntries(location.searchParams), { shop: SHOP }, 'an invalid host is dropped');
  });

  it("passes Shopify's valid host on to the app", async () => {
    const f = createInstallFixture();
    const callback = await perUserCallbackOf(f.browser, await f.callbackOfInstall(SHOP));
    const page = await f.browser.navigate(callback.href, { stopBefore: (url) => !isCallback(url) });
    assert.equal(page.headers.get('location'), `${APP_URL}/?shop=${SHOP}&host=${callback.searchParams.get('host')}`);
  });

  it('clears the state cookie and sets the __Host- session cookie with exact attributes', async () => {
    const f = createInstallFixture();
    const page = await f.install(SHOP);
    const last = page.hops.filter((h) => isCallback(new URL(h.url))).at(-1)!;
    assert.deepEqual(
      last.setCookies.map((c) => c.replace(/^([^=;]+)=[^;]+;/, '$1=V;')),
      [
        `${STATE_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`,
        `${SESSION_COOKIE}=V; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=86399`,
      ],
    );
  });

  it('the session cookie holds no token', async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const session = f.browser.jar.get(SESSION_COOKIE)!.value;
    assert.equal(f.tokenResponses.length, 2);
    for (const text of f.tokenResponses) {
      const body = JSON.parse(text) as { access_token: string; refresh_token?: string };
      assert.ok(!session.includes(body.access_token));
      if (body.refresh_token) assert.ok(!session.includes(body.refresh_token));
    }
    // shop . user id . 128-bit tag of the online token . signature
    assert.match(session, new RegExp(`^${SHOP.replace(/\./g, '\\.')}\\.\\d+\\.[\\w-]{22}\\.[\\w-]{43}$`));
  });
});

describe('security: secret rotation', () => {
  it('accepts a callback signed with the previous secret while the new one exchanges the code', async () => {
    const f = createInstallFixture({ apiSecret: [NEW_SECRET, API_SECRET] }, { emulatorSecret: NEW_SECRET });
    const callback = await f.callbackOfInstall(SHOP);
    const page = await f.browser.navigate(resign(callback, {}, API_SECRET), { stopBefore: toEmulator });
    assert.equal(page.status, 302, page.body);
    assert.equal((await f.vault.list()).length, 1);
  });

  it('verifies a state cookie signed under the old secret after rotation, and not once it is retired', async () => {
    const f = createInstallFixture({}, { emulatorSecret: NEW_SECRET });
    const stateStore = createMemoryStateStore({ now: f.clock.now });
    const before = f.create({ apiSecret: API_SECRET, stateStore });
    const after = f.create({ apiSecret: [NEW_SECRET, API_SECRET], stateStore });
    const retired = f.create({ apiSecret: NEW_SECRET, stateStore });
    let app: Shoptoken = before;
    const browser = new Browser({
      origins: { [APP_URL]: (request) => appFetcher(app)(request), [EMULATOR_ORIGIN]: f.emulator.fetch },
    });

    const callback = await f.callbackOfInstall(SHOP, 'Olivia', browser); // the state cookie signed by `before`
    app = after;
    const page = await browser.navigate(callback.href, { stopBefore: toEmulator });
    assert.equal(page.status, 302, page.body);
    assert.equal((await f.vault.list()).length, 1);

    app = before;
    const next = await f.callbackOfInstall(OTHER_SHOP, 'Olivia', browser);
    app = retired;
    const refused = await browser.navigate(next.href);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /state cookie is invalid/);
  });
});
