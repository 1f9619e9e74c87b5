/**
 * The browser session cookie and requireSession: forged, tampered, cross-purpose and expired
 * cookies give no session; requireSession redirects to the auth path or answers 401. (Cookies
 * bound to a replaced or signed-out token: session-binding.test.ts.)
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSigner } from '../../src/auth/signing.ts';
import { API_SECRET, APP_URL, createInstallFixture, type InstallFixture } from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const SESSION = '__Host-shoptoken_session';

async function installed(): Promise<{ f: InstallFixture; cookie: string; value: string; olivia: string }> {
  const f = createInstallFixture();
  await f.install(SHOP);
  const stored = f.browser.jar.get(SESSION);
  assert.ok(stored);
  return { f, cookie: `${SESSION}=${stored.value}`, value: stored.value, olivia: f.userId(SHOP, 'Olivia') };
}

const request = (path: string, cookie?: string) =>
  new Request(`${APP_URL}${path}`, { headers: cookie ? { cookie } : undefined });

/** Replaces one dot-separated field of the signed value, keeping the signature. */
function tamper(value: string, fromRight: number, replacement: string): string {
  const parts = value.split('.');
  parts[parts.length - 1 - fromRight] = replacement;
  return parts.join('.');
}

describe('session()', () => {
  it('returns the session for the signed cookie: the online token and the offline token', async () => {
    const { f, cookie, olivia } = await installed();
    const session = await f.shoptoken.session(request('/', cookie));
    assert.equal(session?.shop, SHOP);
    assert.equal(session?.userId, olivia);
    assert.equal(session?.online.userId, olivia);
    assert.equal(session?.offline?.kind, 'offline');
  });

  it('returns null without a cookie, or with an empty one', async () => {
    const { f } = await installed();
    assert.equal(await f.shoptoken.session(request('/')), null);
    assert.equal(await f.shoptoken.session(request('/', `${SESSION}=`)), null);
  });

  it('returns null for a cookie with a bad signature', async () => {
    const { f, value } = await installed();
    const signature = value.slice(value.lastIndexOf('.') + 1);
    const forged = `${value.slice(0, value.lastIndexOf('.') + 1)}${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    assert.equal(await f.shoptoken.session(request('/', `${SESSION}=${forged}`)), null);
  });

  it("returns null when the user id is swapped for another user's (signature no longer matches)", async () => {
    const { f, value } = await installed();
    const sam = f.userId(SHOP, 'Sam');
    assert.equal(await f.shoptoken.session(request('/', `${SESSION}=${tamper(value, 2, sam)}`)), null);
  });

  it('returns null when the shop is swapped', async () => {
    const { f, value, olivia } = await installed();
    const forged = `${OTHER_SHOP}.${olivia}.${value.split('.').at(-2)}.${value.split('.').at(-1)}`;
    assert.equal(await f.shoptoken.session(request('/', `${SESSION}=${forged}`)), null);
  });

  it('returns null for a value signed with the state-cookie key (per-purpose keys)', async () => {
    const { f, value } = await installed();
    const unsigned = value.slice(0, value.lastIndexOf('.'));
    const crossPurpose = createSigner([API_SECRET], 'oauth-state-cookie').sign(unsigned);
    assert.equal(await f.shoptoken.session(request('/', `${SESSION}=${crossPurpose}`)), null);
    // The same value signed for the session purpose is accepted: the difference is only the key.
    const samePurpose = createSigner([API_SECRET], 'session-cookie').sign(unsigned);
    assert.ok(await f.shoptoken.session(request('/', `${SESSION}=${samePurpose}`)));
  });

  it('returns null for a well-signed cookie whose fields are malformed', async () => {
    const { f, olivia } = await installed();
    const signer = createSigner([API_SECRET], 'session-cookie');
    const tag = 'A'.repeat(22);
    for (const value of [
      `${SHOP}.abc.${tag}`,
      `evil.com.1.${tag}`,
      `${SHOP}.${tag}`,
      `${SHOP}.1.x`,
      `${SHOP}.${olivia}.1700000000000`, // the cookie format before tags: no longer opens a session
      `${SHOP}.${olivia}.${tag}A`,
    ]) {
      assert.equal(await f.shoptoken.session(request('/', `${SESSION}=${signer.sign(value)}`)), null, value);
    }
  });

  it('returns null once the online token expired', async () => {
    const { f, cookie } = await installed();
    f.clock.advance(86_399 * 1000);
    assert.equal(await f.shoptoken.session(request('/', cookie)), null);
  });
});

describe('requireSession()', () => {
  it('returns the session when signed in', async () => {
    const { f, cookie, olivia } = await installed();
    const result = await f.shoptoken.requireSession(request('/orders', cookie));
    assert.ok(!(result instanceof Response));
    assert.equal(result.userId, olivia);
  });

  it('answers 401 without a cookie and without a valid ?shop=', async () => {
    const { f } = await installed();
    for (const path of ['/orders', '/orders?shop=evil.com', `/orders?shop=${SHOP}&shop=${OTHER_SHOP}`]) {
      const result = await f.shoptoken.requireSession(request(path));
      assert.ok(result instanceof Response);
      assert.equal(result.status, 401, path);
      assert.equal(result.headers.get('location'), null);
    }
  });

  it('redirects to the auth path for a valid ?shop= without a cookie', async () => {
    const { f } = await installed();
    const result = await f.shoptoken.requireSession(request('/orders?shop=Cool-Shop.myshopify.com'));
    assert.ok(result instanceof Response);
    assert.equal(result.status, 302);
    assert.equal(result.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
  });

  it('answers a cookie whose online token expired as no cookie: 401, or the auth path for a valid ?shop=', async () => {
    const { f, cookie } = await installed();
    f.clock.advance(86_400 * 1000);
    const result = await f.shoptoken.requireSession(request('/orders', cookie));
    assert.ok(result instanceof Response);
    assert.equal(result.status, 401);
    const withShop = await f.shoptoken.requireSession(request(`/orders?shop=${SHOP}`, cookie));
    assert.ok(withShop instanceof Response);
    assert.equal(withShop.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
  });

  it('redirects to the auth path of the requested shop when the session belongs to another shop', async () => {
    const { f, cookie } = await installed();
    const result = await f.shoptoken.requireSession(request(`/orders?shop=${OTHER_SHOP}`, cookie));
    assert.ok(result instanceof Response);
    assert.equal(result.headers.get('location'), `${APP_URL}/auth?shop=${OTHER_SHOP}`);
  });
});
