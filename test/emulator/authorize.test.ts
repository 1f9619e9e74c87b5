import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyQueryHmac } from '../../src/protocol/hmac.ts';
import { APP, authorizeParams, authorizePath, get, install, ORIGIN, postForm, SHOP, setup, userId } from './helpers.ts';

const APP_SCOPE_LIST = ['write_products', 'read_orders', 'read_customers'];
const authorizeUrl = (params: URLSearchParams, shop = SHOP) => `${authorizePath(shop)}?${params}`;

describe('GET /{shop}/admin/oauth/authorize: validation', () => {
  const cases: [string, Record<string, string | null>][] = [
    ['unknown client_id', { client_id: 'someone-else' }],
    ['missing client_id', { client_id: null }],
    ['redirect_uri with a trailing slash', { redirect_uri: `${APP.redirectUrls[0]}/` }],
    ['redirect_uri on another host', { redirect_uri: 'https://evil.example/auth/callback' }],
    ['missing redirect_uri', { redirect_uri: null }],
    ['a scope that is not a handle', { scope: 'read_products,admin' }],
    ['an upper-case scope', { scope: 'READ_PRODUCTS' }],
    ['an empty scope entry', { scope: 'read_products,,write_orders' }],
    ['missing scope, with no configured scopes (managed-scopes.test.ts has the rest)', { scope: null }],
    ['grant_options[]=offline', { 'grant_options[]': 'offline' }],
    ['missing state', { state: null }],
    ['a state longer than 512 characters', { state: 'x'.repeat(513) }],
  ];
  for (const [name, overrides] of cases) {
    it(`answers 400 for ${name}`, async () => {
      const { emulator } = setup();
      const response = await get(emulator, authorizeUrl(authorizeParams(overrides)));
      assert.equal(response.status, 400);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    });
  }

  it('answers 400 for a repeated grant_options[]', async () => {
    const { emulator } = setup();
    const params = authorizeParams({ 'grant_options[]': 'per-user' });
    params.append('grant_options[]', 'per-user');
    assert.equal((await get(emulator, authorizeUrl(params))).status, 400);
  });

  it('answers 404 for a shop that is not exactly a canonical myshopify domain', async () => {
    const { emulator } = setup();
    for (const shop of ['Cool-Shop.myshopify.com', 'cool-shop.example.com', 'cool-shop']) {
      assert.equal((await get(emulator, authorizeUrl(authorizeParams(), shop))).status, 404, shop);
    }
  });
});

describe('consent page', () => {
  it('shows the app, the shop, every staff user and every requested scope, with the form fields', async () => {
    const { emulator } = setup();
    const response = await get(emulator, authorizeUrl(authorizeParams()));
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /Test App/);
    assert.match(page, /cool-shop\.myshopify\.com/);
    for (const name of ['Olivia Owner', 'Sam Staff', 'Rita Reader']) assert.match(page, new RegExp(name));
    for (const scope of APP_SCOPE_LIST) assert.match(page, new RegExp(`<li><code>${scope}</code></li>`));
    assert.match(page, /<select id="user" name="user_id">/);
    assert.match(page, /<button[^>]*name="action" value="install"/);
    assert.match(page, /<button[^>]*name="action" value="cancel"/);
    assert.match(page, /<form method="post" action="\/cool-shop\.myshopify\.com\/admin\/oauth\/authorize">/);
    assert.match(page, /<input type="hidden" name="grant_options\[\]" value="">/);
    assert.doesNotMatch(page, / selected/, 'nobody is signed in yet');
  });

  it('escapes request values in the page', async () => {
    const { emulator } = setup();
    const response = await get(emulator, authorizeUrl(authorizeParams({ state: '"><script>alert(1)</script>' })));
    const page = await response.text();
    assert.doesNotMatch(page, /<script>/);
    assert.match(page, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });

  it('preselects the signed-in user when the app asks for more scopes', async () => {
    const { emulator } = setup();
    const { cookie } = await install(emulator, {
      firstName: 'Sam',
      params: authorizeParams({ scope: 'read_products' }),
    });
    const response = await get(emulator, authorizeUrl(authorizeParams({ scope: 'write_products' })), cookie);
    assert.equal(response.status, 200, 'write_products is not covered by read_products: consent again');
    assert.match(await response.text(), new RegExp(`<option value="${userId(emulator, 'Sam')}" selected>`));
  });
});

describe('POST /{shop}/admin/oauth/authorize', () => {
  it('install redirects with exactly code, hmac, host, shop, state, timestamp, signed with the secret', async () => {
    const { emulator, now } = setup();
    const { location } = await install(emulator);
    assert.equal(`${location.origin}${location.pathname}`, APP.redirectUrls[0]);
    assert.deepEqual([...location.searchParams.keys()].sort(), ['code', 'hmac', 'host', 'shop', 'state', 'timestamp']);
    assert.ok(verifyQueryHmac(location.searchParams, [APP.clientSecret]));
    assert.equal(verifyQueryHmac(location.searchParams, ['another-secret']), false);
    assert.match(location.searchParams.get('code')!, /^[0-9a-f]{32}$/);
    assert.equal(location.searchParams.get('shop'), SHOP);
    assert.equal(location.searchParams.get('state'), 'state-nonce-123');
    assert.equal(location.searchParams.get('timestamp'), String(Math.floor(now() / 1000)));
    const host = location.searchParams.get('host')!;
    assert.doesNotMatch(host, /=/);
    assert.equal(Buffer.from(host, 'base64').toString(), 'admin.shopify.com/store/cool-shop');
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: APP_SCOPE_LIST });
  });

  it('signs the user in with an HttpOnly, SameSite=Lax cookie scoped to the shop path', async () => {
    const { emulator } = setup();
    const form = authorizeParams();
    form.set('user_id', userId(emulator, 'Olivia'));
    form.set('action', 'install');
    const response = await postForm(emulator, authorizePath(), form, { origin: ORIGIN });
    assert.equal(response.status, 302);
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^shoptoken_emulator_session=[0-9a-f]{48}; /);
    assert.match(cookie, /; Path=\/cool-shop\.myshopify\.com\//);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
  });

  it('with the session cookie and covered scopes, a per-user authorize redirects at once', async () => {
    const { emulator } = setup();
    const { cookie } = await install(emulator);
    const response = await get(emulator, authorizeUrl(authorizeParams({ 'grant_options[]': 'per-user' })), cookie);
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.ok(verifyQueryHmac(location.searchParams, [APP.clientSecret]));
    assert.equal(response.headers.get('set-cookie'), null);
  });

  it('without a session, an installed app gets a sign-in page, not the consent page', async () => {
    const { emulator } = setup();
    await install(emulator);
    const response = await get(emulator, authorizeUrl(authorizeParams({ 'grant_options[]': 'per-user' })));
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /<button[^>]*name="action" value="login"/);
    assert.doesNotMatch(page, /value="install"/);
  });

  it('login signs a second user in and redirects with a code', async () => {
    const { emulator } = setup();
    await install(emulator);
    const { location } = await install(emulator, {
      firstName: 'Sam',
      action: 'login',
      params: authorizeParams({ 'grant_options[]': 'per-user' }),
    });
    assert.ok(verifyQueryHmac(location.searchParams, [APP.clientSecret]));
  });

  it('login is refused while the app is not installed', async () => {
    const { emulator } = setup();
    const form = authorizeParams();
    form.set('user_id', userId(emulator, 'Olivia'));
    form.set('action', 'login');
    assert.equal((await postForm(emulator, authorizePath(), form)).status, 403);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('cancel shows "Installation cancelled" and records nothing', async () => {
    const { emulator } = setup();
    const form = authorizeParams();
    form.set('user_id', userId(emulator, 'Olivia'));
    form.set('action', 'cancel');
    const response = await postForm(emulator, authorizePath(), form);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('location'), null);
    const page = await response.text();
    assert.match(page, /Installation cancelled/);
    assert.match(page, /<a id="back-to-app" href="https:\/\/app\.example\/">/, 'links back to the app');
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('an online install by a user lacking a requested scope fails with 403 on a fresh shop', async () => {
    const { emulator } = setup();
    const form = authorizeParams({ 'grant_options[]': 'per-user' });
    form.set('user_id', userId(emulator, 'Rita'));
    form.set('action', 'install');
    const response = await postForm(emulator, authorizePath(), form);
    assert.equal(response.status, 403);
    assert.match(await response.text(), /must have access to all required scopes/);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('refuses a form posted from another origin (CSRF) and changes nothing', async () => {
    const { emulator } = setup();
    const form = authorizeParams();
    form.set('user_id', userId(emulator, 'Olivia'));
    form.set('action', 'install');
    const response = await postForm(emulator, authorizePath(), form, { origin: 'https://evil.example' });
    assert.equal(response.status, 403);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('refuses a user of another shop and a tampered redirect_uri', async () => {
    const { emulator } = setup();
    const foreign = authorizeParams();
    foreign.set('user_id', userId(emulator, 'Olivia', 'other-shop.myshopify.com'));
    foreign.set('action', 'install');
    assert.equal((await postForm(emulator, authorizePath(), foreign)).status, 400);
    const tampered = authorizeParams({ redirect_uri: 'https://evil.example/auth/callback' });
    tampered.set('user_id', userId(emulator, 'Olivia'));
    tampered.set('action', 'install');
    assert.equal((await postForm(emulator, authorizePath(), tampered)).status, 400);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });
});

describe('GET /{shop}/admin/logout', () => {
  it('signs out and follows return_to only to a registered app origin', async () => {
    const { emulator } = setup();
    const { cookie } = await install(emulator);
    const back = 'https://app.example/auth?shop=cool-shop.myshopify.com';
    const response = await get(emulator, `/${SHOP}/admin/logout?return_to=${encodeURIComponent(back)}`, cookie);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), back);
    assert.match(response.headers.get('set-cookie') ?? '', /^shoptoken_emulator_session=; .*Max-Age=0/);
    // The old session no longer signs anyone in: sign-in page instead of a redirect.
    const again = await get(emulator, `${authorizePath()}?${authorizeParams()}`, cookie);
    assert.equal(again.status, 200);

    const evil = await get(emulator, `/${SHOP}/admin/logout?return_to=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(evil.status, 200);
    assert.equal(evil.headers.get('location'), null);
  });
});
