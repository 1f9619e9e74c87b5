/**
 * One install, both tokens — through the emulator, in a test browser that clicks the consent page.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_KEY, APP_URL, createInstallFixture, SCOPES } from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';
const STATE_COOKIE = '__Host-shoptoken_state';
const SESSION_COOKIE = '__Host-shoptoken_session';
const sorted = (list: readonly string[]) => [...list].sort();

describe('install: one install, both tokens', () => {
  it('runs the offline leg then the per-user leg and calls afterAuth once with both tokens', async () => {
    const f = createInstallFixture();
    const start = f.clock.now();
    const page = await f.install(SHOP, 'Olivia');
    const olivia = f.userId(SHOP, 'Olivia');

    // The browser ends on the app, signed in as Olivia.
    assert.equal(page.status, 200);
    const final = new URL(page.url);
    assert.equal(final.origin, APP_URL);
    assert.equal(final.pathname, '/');
    assert.equal(final.searchParams.get('shop'), SHOP);
    assert.ok(final.searchParams.get('host'), 'the host parameter is passed on');
    assert.deepEqual(JSON.parse(page.body), { shop: SHOP, userId: olivia, hasOffline: true });
    assert.ok(f.browser.jar.get(SESSION_COOKIE));
    assert.equal(f.browser.jar.get(STATE_COOKIE), undefined, 'the state cookie is cleared');

    // afterAuth exactly once, with both tokens.
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 0);
    const ctx = f.afterAuth[0]!;
    assert.equal(ctx.shop, SHOP);
    assert.equal(ctx.offline.kind, 'offline');
    assert.equal(ctx.offline.expiring, true);
    assert.equal(ctx.offline.expiresAt?.getTime(), start + 3600 * 1000);
    assert.equal('refreshToken' in ctx.offline, false, 'no refresh token is visible');
    assert.doesNotMatch(JSON.stringify(ctx), /shprt_/);
    assert.match(ctx.offline.accessToken, /^shpat_/);
    assert.equal(ctx.online.kind, 'online');
    assert.equal(ctx.online.userId, olivia);
    assert.equal(ctx.online.expiresAt.getTime(), start + 86_399 * 1000);
    assert.notEqual(ctx.online.accessToken, ctx.offline.accessToken);
    assert.equal(ctx.user.id, olivia);
    assert.equal(ctx.user.firstName, 'Olivia');
    assert.equal(ctx.user.accountOwner, true);
    assert.deepEqual(sorted(ctx.grantedScopes), sorted(SCOPES));
    assert.deepEqual(ctx.missingUserScopes, []);

    // The emulator served exactly one offline and one online authorization-code grant.
    const grants = f.emulator.grants();
    assert.deepEqual(
      grants.map((g) => [g.grantType, g.accessMode, g.expiring, g.userId, g.status]),
      [
        ['authorization_code', 'offline', true, null, 200],
        ['authorization_code', 'online', false, olivia, 200],
      ],
    );

    // The vault has both.
    assert.deepEqual(
      (await f.vault.list()).map((t) => [t.kind, t.userId]),
      [
        ['offline', null],
        ['online', olivia],
      ],
    );
    assert.equal((await f.vault.offline(SHOP))?.accessToken, ctx.offline.accessToken);
    assert.equal((await f.vault.online(SHOP, olivia))?.accessToken, ctx.online.accessToken);

    // The per-user authorize skipped consent: one POST (the install), and the second authorize redirected at once.
    assert.equal(f.browser.count('POST'), 1);
    const authorizes = f.browser.history.filter((h) => h.url.includes('/admin/oauth/authorize') && h.method === 'GET');
    assert.equal(authorizes.length, 2);
    assert.equal(authorizes[0]!.status, 200, 'the offline authorize shows consent');
    assert.equal(new URL(authorizes[1]!.url).searchParams.get('grant_options[]'), 'per-user');
    assert.equal(authorizes[1]!.status, 302, 'the per-user authorize redirects without a page');
  });

  it('stores a non-expiring offline token when expiringOfflineTokens is false', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    const offline = await f.vault.offline(SHOP);
    assert.equal(offline?.expiring, false);
    assert.equal(offline?.expiresAt, null);
    assert.equal(f.afterAuth[0]?.offline.expiring, false);
    const offlineGrant = f.emulator.grants().find((g) => g.accessMode === 'offline');
    assert.equal(offlineGrant?.expiring, false);
  });

  it('signs a second staff user in through the per-user leg only, with afterLogin', async () => {
    const f = createInstallFixture();
    await f.install(SHOP, 'Olivia');
    const offlineBefore = await f.vault.offline(SHOP);
    f.clock.advance(60_000); // a rewrite of the offline token would now change its updatedAt

    const sam = f.userId(SHOP, 'Sam');
    const browser = f.newBrowser();
    const signIn = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(signIn.status, 200);
    assert.doesNotMatch(signIn.body, /value="install"/, 'no consent page for an installed app');
    assert.match(signIn.body, /value="login"/);
    const authorize = new URL(signIn.url);
    assert.equal(authorize.searchParams.get('grant_options[]'), 'per-user', 'only the per-user leg runs');

    const page = await browser.submit(signIn, { name: 'action', value: 'login' }, { user_id: sam });
    assert.equal(page.status, 200);
    assert.deepEqual(JSON.parse(page.body), { shop: SHOP, userId: sam, hasOffline: true });
    assert.equal(browser.count('POST'), 1);

    assert.equal(f.afterAuth.length, 1, 'afterAuth is not called again');
    assert.equal(f.afterLogin.length, 1);
    const ctx = f.afterLogin[0]!;
    assert.equal(ctx.user.id, sam);
    assert.equal(ctx.online.userId, sam);
    assert.deepEqual(ctx.missingUserScopes, ['read_customers']);
    assert.equal(ctx.offline.accessToken, offlineBefore?.accessToken);

    const offlineAfter = await f.vault.offline(SHOP);
    assert.equal(offlineAfter?.updatedAt.getTime(), offlineBefore?.updatedAt.getTime(), 'offline token unchanged');
    assert.equal(offlineAfter?.accessToken, offlineBefore?.accessToken);
    const samToken = await f.vault.online(SHOP, sam);
    const oliviaToken = await f.vault.online(SHOP, f.userId(SHOP, 'Olivia'));
    assert.ok(samToken && oliviaToken);
    assert.notEqual(samToken.accessToken, oliviaToken.accessToken);

    const modes = f.emulator.grants().map((g) => `${g.accessMode}:${g.userId ?? ''}`);
    assert.deepEqual(modes, ['offline:', `online:${f.userId(SHOP, 'Olivia')}`, `online:${sam}`]);
  });

  it('re-runs only the per-user leg when the online token expired (cookie still held)', async () => {
    // An offline token that never expires, so only the online token is stale (an expired offline
    // token is re-minted through the install leg: see below).
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    const olivia = f.userId(SHOP, 'Olivia');
    f.clock.advance(86_400 * 1000); // past expires_in (86399 s); the browser's own clock keeps the cookie

    assert.equal(await f.vault.online(SHOP, olivia), null);
    // The cookie died with its token: without ?shop= the answer is the one to no cookie at all.
    assert.equal((await f.browser.navigate(`${APP_URL}/orders`)).status, 401);
    const page = await f.browser.navigate(`${APP_URL}/orders?shop=${SHOP}`);
    assert.equal(page.status, 200);
    assert.deepEqual(JSON.parse(page.body), { shop: SHOP, userId: olivia, hasOffline: true });
    const first = page.hops[0]!;
    assert.equal(first.status, 302);
    assert.equal(first.location, `${APP_URL}/auth?shop=${SHOP}`, 'requireSession redirects to the auth path');
    assert.equal(f.browser.count('POST'), 1, 'no new consent');

    const modes = f.emulator.grants().map((g) => g.accessMode);
    assert.deepEqual(modes, ['offline', 'online', 'online'], 'one more online grant, no offline grant');
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 1);
    assert.ok(await f.vault.online(SHOP, olivia));
  });

  it('when the session cookie expired with the token: 401 without a shop, the per-user leg with ?shop=', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    const browser = f.newBrowser(f.clock.now); // the browser shares the fake clock, so its cookie expires too
    await f.install(SHOP, 'Olivia', browser);
    assert.ok(browser.jar.get(SESSION_COOKIE));
    f.clock.advance(86_400 * 1000);
    assert.equal(browser.jar.get(SESSION_COOKIE), undefined);

    const anonymous = await browser.navigate(`${APP_URL}/orders`);
    assert.equal(anonymous.status, 401);

    const page = await browser.navigate(`${APP_URL}/orders?shop=${SHOP}`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      f.emulator.grants().map((g) => g.accessMode),
      ['offline', 'online', 'online'],
    );
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 1);
  });

  it('refreshes an expired expiring offline token at sign-in: no new offline grant, no new afterAuth', async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const before = await f.vault.offline(SHOP);
    assert.ok(before?.expiresAt && before.installedAt);
    f.clock.advance(3601 * 1000); // the expiring offline token lasts 1 h; the online token is still valid

    const page = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(page.status, 200);
    assert.equal(f.browser.count('POST'), 1, 'no consent: the app is installed with these scopes');
    assert.deepEqual(
      f.emulator.grants().map((g) => [g.grantType, g.accessMode]),
      [
        ['authorization_code', 'offline'],
        ['authorization_code', 'online'],
        ['refresh_token', 'offline'],
        ['authorization_code', 'online'],
      ],
      'the refresh token was used, then the per-user leg',
    );
    const after = await f.vault.offline(SHOP);
    assert.equal(after?.expiresAt?.getTime(), f.clock.now() + 3600 * 1000);
    assert.notEqual(after?.accessToken, before.accessToken);
    assert.equal(after?.installedAt?.getTime(), before.installedAt.getTime(), 'still the same install');
    assert.equal(f.afterAuth.length, 1, 'not a new install');
    assert.equal(f.afterLogin.length, 1);
    assert.equal(f.afterLogin[0]?.offline.accessToken, after?.accessToken);
  });

  it('re-mints an expired offline token through the install leg when its refresh is refused', async () => {
    const f = createInstallFixture();
    await f.install(SHOP);
    const before = await f.vault.offline(SHOP);
    f.emulator.revokeRefreshTokens(SHOP, API_KEY);
    f.clock.advance(3601 * 1000);
    const page = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      f.emulator.grants().map((g) => [g.grantType, g.accessMode, g.status]),
      [
        ['authorization_code', 'offline', 200],
        ['authorization_code', 'online', 200],
        ['refresh_token', 'offline', 401],
        ['authorization_code', 'offline', 200],
        ['authorization_code', 'online', 200],
      ],
    );
    const after = await f.vault.offline(SHOP);
    assert.equal(after?.status, 'active');
    assert.notEqual(after?.accessToken, before?.accessToken);
    assert.equal(f.afterAuth.length, 1, 'a re-mint is not a new install');
    assert.equal(f.afterLogin.length, 1);
  });

  it('keeps using an offline token that never expires, however old', async () => {
    const f = createInstallFixture({ expiringOfflineTokens: false });
    await f.install(SHOP);
    f.clock.advance(365 * 86_400 * 1000);
    await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.deepEqual(
      f.emulator.grants().map((g) => g.accessMode),
      ['offline', 'online', 'online'],
      'the per-user leg only',
    );
  });

  it('runs the install leg again when the app now needs scopes the offline token lacks', async () => {
    const f = createInstallFixture({ scopes: ['write_products'] });
    await f.install(SHOP);
    assert.deepEqual((await f.vault.offline(SHOP))?.scopes, ['write_products']);

    // The app is redeployed asking for more; the same vault and emulator.
    const browser = f.newBrowser(undefined, f.create({ scopes: SCOPES }));
    const consent = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    const authorize = new URL(consent.url);
    assert.equal(authorize.searchParams.get('grant_options[]'), null, 'the offline leg, not the per-user leg');
    assert.match(consent.body, /value="install"/, 'Shopify asks for consent to the new scopes');
    await browser.submit(consent, { name: 'action', value: 'install' }, { user_id: f.userId(SHOP, 'Olivia') });

    assert.deepEqual(sorted((await f.vault.offline(SHOP))?.scopes ?? []), sorted(SCOPES));
    assert.equal(f.afterAuth.length, 1, 'a scope upgrade re-mints the token of an installed shop: no new afterAuth');
    assert.equal(f.afterLogin.length, 1);
    assert.deepEqual(sorted(f.afterLogin[0]!.offline.scopes), sorted(SCOPES));
  });
});
