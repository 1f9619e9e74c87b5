/**
 * A shop that needs re-auth recovers when the merchant opens the app: once Shopify refused the
 * shop's offline token for good (the vault marks it `needs_reauth`), the next `/auth` runs the
 * offline leg even though the stored token has time left (or never expires), stores a fresh
 * `active` token, and the sign-in after it calls `afterLogin`, not `afterAuth`. Meanwhile a live
 * session cookie of that shop is not served: the browser goes to the auth path.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdmin } from '../../src/admin/admin.ts';
import type { Page } from '../helpers/browser.ts';
import { adminStatus } from '../helpers/emulator-install.ts';
import {
  API_KEY,
  APP_URL,
  createInstallFixture,
  EMULATOR_ORIGIN,
  emulatorFetch,
  type InstallFixture,
  isCallback,
} from '../helpers/install-fixture.ts';
import { SESSION_COOKIE, toEmulator } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';

/** The Admin API client a real app would use on the fixture's vault, pointed at the emulator. */
const admin = (f: InstallFixture) =>
  createAdmin(f.vault, {
    shopifyBaseUrl: f.emulator.baseUrl(EMULATOR_ORIGIN),
    fetch: emulatorFetch(f.emulator),
    now: f.clock.now,
  })(SHOP);

/** While the shop is marked, the live cookie opens no session: the page sends the browser to the auth path. */
async function assertSessionNotServed(f: InstallFixture): Promise<void> {
  const cookie = `${SESSION_COOKIE}=${f.browser.jar.get(SESSION_COOKIE)!.value}`;
  assert.equal(await f.shoptoken.session(new Request(`${APP_URL}/orders`, { headers: { cookie } })), null);
  const page = await f.browser.navigate(`${APP_URL}/orders`, { stopBefore: () => true });
  assert.equal(page.status, 302);
  assert.equal(page.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
}

/** Follows the browser from a protected page through /auth; clicks Shopify's consent page when it is shown. */
async function openTheApp(f: InstallFixture): Promise<Page> {
  let page = await f.browser.navigate(`${APP_URL}/orders`);
  if (new URL(page.url).origin === EMULATOR_ORIGIN) {
    page = await f.browser.submit(page, { name: 'action', value: 'install' }, { user_id: f.userId(SHOP, 'Olivia') });
  }
  return page;
}

/**
 * The recovery: a fresh active token Shopify accepts, a working session, and the hook with the new
 * token — `afterLogin` for a re-mint, `afterAuth` again when the app had been uninstalled.
 */
async function assertRecovered(
  f: InstallFixture,
  page: Page,
  revoked: string,
  hook: 'afterLogin' | 'afterAuth' = 'afterLogin',
): Promise<void> {
  assert.equal(page.status, 200, page.body);
  assert.deepEqual(JSON.parse(page.body), { shop: SHOP, userId: f.userId(SHOP, 'Olivia'), hasOffline: true });
  const offline = await f.vault.offline(SHOP);
  assert.equal(offline?.status, 'active', 'the mark is cleared');
  assert.notEqual(offline.accessToken, revoked);
  assert.equal(await adminStatus(f.emulator, SHOP, offline.accessToken), 200, 'Shopify accepts the new token');
  assert.ok(await admin(f).request('{ shop { name } }'));
  const reinstall = hook === 'afterAuth';
  assert.equal(f.afterAuth.length, reinstall ? 2 : 1, reinstall ? 'a new install' : 'not a new install');
  assert.equal(f.afterLogin.length, reinstall ? 0 : 1);
  const seen = reinstall ? f.afterAuth[1] : f.afterLogin[0];
  assert.equal(seen?.offline.accessToken, offline.accessToken, `${hook} sees the new token`);
  assert.equal(seen?.offline.status, 'active');
}

describe('a shop that needs re-auth recovers through /auth', () => {
  it('a non-expiring token revoked at Shopify (uninstall, Admin API 401): /auth installs anew, afterAuth again', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    const revoked = (await f.vault.offline(SHOP))!.accessToken;
    f.emulator.uninstall(SHOP, API_KEY); // and the merchant installs again from the App Store

    await assert.rejects(admin(f).request('{ shop { name } }'), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal((await f.vault.offline(SHOP))?.status, 'needs_reauth', 'the 401 marked the shop');
    assert.ok(f.browser.jar.get(SESSION_COOKIE), 'the browser still holds a live session cookie');
    await assertSessionNotServed(f);

    const page = await openTheApp(f);
    assert.deepEqual(
      f.emulator.grants().map((g) => [g.accessMode, g.status]),
      [
        ['offline', 200],
        ['online', 200],
        ['offline', 200],
        ['online', 200],
      ],
      'the offline leg ran again, then the per-user leg',
    );
    await assertRecovered(f, page, revoked, 'afterAuth');
  });

  it('an expiring token whose refresh token was revoked, with time left: /auth re-mints it', async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const before = (await f.vault.offline(SHOP))!;
    f.emulator.revokeRefreshTokens(SHOP, API_KEY);
    f.clock.advance(10 * 60_000);
    // What the refresher does when Shopify refuses the refresh token for good.
    assert.equal(await f.vault.markNeedsReauth(SHOP, 'invalid_grant', before.accessToken), true);
    const marked = await f.vault.offline(SHOP);
    assert.ok(marked?.expiresAt && marked.expiresAt.getTime() > f.clock.now(), 'the access token has time left');
    await assertSessionNotServed(f);

    const page = await openTheApp(f);
    assert.equal(f.browser.count('POST'), 1, 'no consent page: the app is still installed');
    assert.deepEqual(
      f.emulator.grants().map((g) => [g.accessMode, g.expiring]),
      [
        ['offline', true],
        ['online', false],
        ['offline', true],
        ['online', false],
      ],
    );
    const after = await f.vault.offline(SHOP);
    assert.equal(after?.expiresAt?.getTime(), f.clock.now() + 3600 * 1000, 'a new expiring pair');
    await assertRecovered(f, page, before.accessToken);
  });

  it('a signed install request (the App URL) for a marked shop starts the offline leg', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    const token = (await f.vault.offline(SHOP))!;
    await f.vault.markNeedsReauth(SHOP, 'admin_unauthorized', token.accessToken);
    const page = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`, { stopBefore: toEmulator });
    const authorize = new URL(page.headers.get('location')!);
    assert.equal(authorize.searchParams.get('grant_options[]'), null, 'the offline leg, not the per-user leg');
  });

  it('does not hand a token marked between the legs to afterLogin: the flow starts again', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    // A new sign-in runs the per-user leg only; the shop is marked before its callback lands.
    const signIn = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`, { stopBefore: isCallback });
    const callback = new URL(signIn.headers.get('location') ?? 'about:blank');
    assert.ok(isCallback(callback), `stopped at ${signIn.url}`);
    const token = (await f.vault.offline(SHOP))!;
    await f.vault.markNeedsReauth(SHOP, 'admin_unauthorized', token.accessToken);
    const page = await f.browser.navigate(callback.href, { stopBefore: () => true });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(f.afterLogin.length, 0, 'afterLogin is not called with the refused token');
    assert.deepEqual(
      page.hops[0]?.setCookies.map((c) => c.split('=')[0]),
      ['__Host-shoptoken_state'],
    );
  });

  it('a sign-in asks Shopify about the stored token once; when Shopify cannot answer, the sign-in goes on', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    const token = (await f.vault.offline(SHOP))!.accessToken;
    f.emulator.faults.add({ endpoint: 'graphql', status: 503 });
    const browser = f.newBrowser(f.clock.now);
    const signIn = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(new URL(signIn.url).origin, EMULATOR_ORIGIN, 'the sign-in page of the per-user leg');
    const page = await browser.submit(signIn, { name: 'action', value: 'login' }, { user_id: f.userId(SHOP, 'Sam') });
    assert.equal(page.status, 200, page.body);
    assert.equal(new URL(page.url).origin, APP_URL, 'signed in');
    assert.deepEqual(
      f.emulator.grants().map((g) => g.accessMode),
      ['offline', 'online', 'online'],
      'no offline leg: the token was not refused',
    );
    assert.equal((await f.vault.offline(SHOP))?.accessToken, token);
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 1);
  });
});
