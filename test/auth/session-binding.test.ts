/**
 * A session cookie dies with its token, on the server: the cookie is bound to the online token it
 * was issued with, so once that token expired and was replaced (the user signed in again, here or
 * elsewhere) or was signed out, the cookie opens nothing — and is answered exactly as a missing or
 * forged cookie. The sign-out route and its CSRF defences.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSigner } from '../../src/auth/signing.ts';
import type { Shoptoken } from '../../src/auth/types.ts';
import { type Browser, type Page, parseForms } from '../helpers/browser.ts';
import { API_SECRET, APP_URL, createInstallFixture, type InstallFixture } from '../helpers/install-fixture.ts';
import { SESSION_COOKIE } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';
const DAY = 86_400 * 1000;
const NEW_SECRET = 'the-new-secret-0123456789';

/** Signs `firstName` in through `/auth` in `browser`, clicking Shopify's page if one is shown. */
async function signIn(f: InstallFixture, browser: Browser, firstName: string): Promise<string> {
  let page = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
  const button = parseForms(page)[0]?.buttons.find((b) => b.value === 'login' || b.value === 'install');
  if (button) page = await browser.submit(page, button, { user_id: f.userId(SHOP, firstName) });
  assert.equal(page.status, 200, page.body);
  const cookie = browser.jar.get(SESSION_COOKIE);
  assert.ok(cookie, 'signed in');
  return `${SESSION_COOKIE}=${cookie.value}`;
}

const request = (path: string, cookie?: string, init: RequestInit = {}) =>
  new Request(`${APP_URL}${path}`, { ...init, headers: { ...(cookie ? { cookie } : {}), ...init.headers } });

/** Everything a response says: status, every header, body. */
async function answer(response: Response | unknown) {
  assert.ok(response instanceof Response, 'no session');
  return { status: response.status, headers: [...response.headers], body: await response.text() };
}

/**
 * `cookie` opens no session, and requireSession answers it exactly as a forged cookie and as no
 * cookie: 401 without ?shop=, the same redirect with one.
 */
async function assertAnsweredAsNoCookie(st: Shoptoken, cookie: string): Promise<void> {
  assert.equal(await st.session(request('/orders', cookie)), null);
  const forged = `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`;
  for (const path of ['/orders', `/orders?shop=${SHOP}`]) {
    const replayed = await answer(await st.requireSession(request(path, cookie)));
    assert.deepEqual(replayed, await answer(await st.requireSession(request(path, forged))), path);
    assert.deepEqual(replayed, await answer(await st.requireSession(request(path))), path);
    assert.equal(replayed.status, path === '/orders' ? 401 : 302);
  }
}

describe('session cookies bound to their online token', () => {
  it('refuses a cookie replayed after its token expired and the user signed in again elsewhere', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    const old = await signIn(f, f.browser, 'Olivia');
    assert.ok(await f.shoptoken.session(request('/orders', old)), 'the fresh cookie works');
    f.clock.advance(DAY); // the online token (86,399 s) expired; the browser still holds the cookie
    const fresh = await signIn(f, f.newBrowser(), 'Olivia'); // another browser, the same user

    assert.equal((await f.shoptoken.session(request('/orders', fresh)))?.userId, f.userId(SHOP, 'Olivia'));
    await assertAnsweredAsNoCookie(f.shoptoken, old);
  });

  it('refuses a cookie from before a re-sign-in, while its token had time left', async () => {
    const f = createInstallFixture();
    const first = await signIn(f, f.browser, 'Olivia');
    f.clock.advance(60_000);
    const second = await signIn(f, f.newBrowser(), 'Olivia');
    assert.notEqual(first, second);
    assert.ok(await f.shoptoken.session(request('/orders', second)));
    await assertAnsweredAsNoCookie(f.shoptoken, first);
  });

  it("refuses a well-signed cookie whose tag is not the token's (the tag is checked, not just the signature)", async () => {
    const f = createInstallFixture();
    const cookie = await signIn(f, f.browser, 'Olivia');
    const value = cookie.slice(cookie.indexOf('=') + 1);
    const unsigned = value.slice(0, value.lastIndexOf('.'));
    const tag = unsigned.slice(unsigned.lastIndexOf('.') + 1);
    const signer = createSigner([API_SECRET], 'session-cookie');
    const otherTag = `${tag[0] === 'A' ? 'B' : 'A'}${tag.slice(1)}`;
    const retagged = `${SESSION_COOKIE}=${signer.sign(`${unsigned.slice(0, -tag.length)}${otherTag}`)}`;
    await assertAnsweredAsNoCookie(f.shoptoken, retagged);
    assert.ok(await f.shoptoken.session(request('/orders', `${SESSION_COOKIE}=${signer.sign(unsigned)}`)));
  });

  it('keeps a cookie valid across secret rotation, and not once the old secret is retired', async () => {
    const f = createInstallFixture();
    const cookie = await signIn(f, f.browser, 'Olivia');
    assert.ok(await f.create({ apiSecret: [NEW_SECRET, API_SECRET] }).session(request('/', cookie)));
    assert.equal(await f.create({ apiSecret: NEW_SECRET }).session(request('/', cookie)), null);
  });
});

describe('sign-out', () => {
  const logout = (cookie: string | undefined, headers: Record<string, string> = {}) =>
    request('/auth/logout', cookie, { method: 'POST', headers });

  it("deletes the user's online token, clears the cookie and redirects (303); a kept copy opens nothing", async () => {
    const f = createInstallFixture();
    const cookie = await signIn(f, f.browser, 'Olivia');
    const sam = await signIn(f, f.newBrowser(), 'Sam');
    const olivia = f.userId(SHOP, 'Olivia');

    const response = await f.shoptoken.handle(logout(cookie, { origin: APP_URL }));
    assert.equal(response?.status, 303);
    assert.equal(response.headers.get('location'), `${APP_URL}/`);
    assert.deepEqual(response.headers.getSetCookie(), [
      `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`,
    ]);
    assert.equal(await f.vault.online(SHOP, olivia), null, 'the token is gone from the vault');
    assert.ok(await f.vault.offline(SHOP), 'the shop stays installed');
    assert.ok(await f.shoptoken.session(request('/', sam)), "another user's session is untouched");
    await assertAnsweredAsNoCookie(f.shoptoken, cookie);
  });

  it('signs out from a form on the app page through a browser, and goes to redirectAfterLogout', async () => {
    const f = createInstallFixture({ redirectAfterLogout: '/bye' });
    await signIn(f, f.browser, 'Olivia');
    const appPage: Page = {
      url: `${APP_URL}/orders`,
      status: 200,
      headers: new Headers(),
      body: `<form method="post" action="/auth/logout"><button name="go" value="1">Sign out</button></form>`,
      hops: [],
    };
    const page = await f.browser.submit(appPage, { name: 'go', value: '1' }, {}, { stopBefore: () => true });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), `${APP_URL}/bye`);
    assert.equal(f.browser.jar.get(SESSION_COOKIE), undefined);
    assert.equal(await f.vault.online(SHOP, f.userId(SHOP, 'Olivia')), null);
  });

  it('cannot be forced from another site: the form post carries no cookie and is refused by its Origin', async () => {
    const f = createInstallFixture();
    const cookie = await signIn(f, f.browser, 'Olivia');
    const before = await f.vault.list();
    const evilPage: Page = {
      url: 'https://evil.example/',
      status: 200,
      headers: new Headers(),
      body: `<form method="post" action="${APP_URL}/auth/logout"><button name="go" value="1">Win</button></form>`,
      hops: [],
    };
    const page = await f.browser.submit(evilPage, { name: 'go', value: '1' });
    assert.equal(page.status, 403);
    assert.deepEqual(page.hops[0]?.setCookies, [], 'the cookie is not cleared');
    assert.deepEqual(await f.vault.list(), before, 'nothing deleted');
    assert.ok(f.browser.jar.get(SESSION_COOKIE), 'still signed in');

    // Even with the cookie (a browser that sends it), a foreign or opaque Origin is refused.
    for (const origin of ['https://evil.example', 'null', `${APP_URL}.evil.example`, 'http://app.example.com']) {
      const response = await f.shoptoken.handle(logout(cookie, { origin }));
      assert.equal(response?.status, 403, origin);
      assert.deepEqual(response.headers.getSetCookie(), []);
    }
    assert.deepEqual(await f.vault.list(), before, 'nothing deleted');
    assert.ok(await f.shoptoken.session(request('/', cookie)));
  });

  it('deletes nothing for a missing, forged or outdated cookie, and still clears it', async () => {
    const f = createInstallFixture();
    const old = await signIn(f, f.browser, 'Olivia');
    const current = await signIn(f, f.newBrowser(), 'Olivia'); // replaces the token `old` was bound to
    const before = await f.vault.list();
    for (const cookie of [undefined, `${SESSION_COOKIE}=forged.value`, old]) {
      const response = await f.shoptoken.handle(logout(cookie));
      assert.equal(response?.status, 303);
      assert.equal(response.headers.getSetCookie().length, 1);
    }
    assert.deepEqual(await f.vault.list(), before, 'an old copy cannot sign the user out of her current session');
    assert.ok(await f.shoptoken.session(request('/', current)));
  });
});
