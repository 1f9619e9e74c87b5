/**
 * `emulator.uninstall` as `app/uninstalled`: every token of the app on the shop stops working —
 * client credentials, online, offline (non-expiring and expiring) — with the Admin API's 401, and
 * so do its pending codes; client credentials are refused until the app is installed again. Other
 * shops and other apps are untouched.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  authorizeParams,
  CREDENTIALS,
  control,
  exchange,
  graphql,
  install,
  installExpiring,
  ORIGIN,
  SHOP,
  setup,
  tokenRequest,
} from './helpers.ts';

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const QUERY = '{ shop { name } }';
const OTHER_SHOP = 'other-shop.myshopify.com';

/** An installed organization shop with one token of every kind. */
async function everyKind() {
  const t = setup({ apps: [{ ...APP, scopes: ['write_products'] }] });
  const { emulator } = t;
  emulator.setOrganizationApp(SHOP, APP.clientId);
  const offline = await exchange(emulator, (await install(emulator)).code);
  const expiring = await installExpiring(emulator);
  const perUser = await install(emulator, {
    firstName: 'Sam',
    action: 'login',
    params: authorizeParams({ 'grant_options[]': 'per-user' }),
  });
  const online = await exchange(emulator, perUser.code);
  const granted = await tokenRequest(emulator, { ...CREDENTIALS, grant_type: 'client_credentials' });
  assert.equal(granted.status, 200);
  const credentials = (await granted.json()) as { access_token: string };
  const tokens = {
    'non-expiring offline': String(offline.access_token),
    'expiring offline': expiring.access_token,
    online: String(online.access_token),
    'client credentials': credentials.access_token,
  };
  for (const [kind, token] of Object.entries(tokens)) {
    assert.equal((await graphql(emulator, token, QUERY)).status, 200, `${kind} works before`);
  }
  return { ...t, tokens };
}

async function assertRevoked(emulator: Parameters<typeof graphql>[0], kind: string, token: string) {
  const response = await graphql(emulator, token, QUERY);
  assert.equal(response.status, 401, kind);
  assert.deepEqual(await response.json(), UNAUTHORIZED, kind);
  const scopes = await emulator.fetch(
    new Request(`${ORIGIN}/${SHOP}/admin/oauth/access_scopes.json`, { headers: { 'x-shopify-access-token': token } }),
  );
  assert.equal(scopes.status, 401, `${kind}: access_scopes.json`);
}

describe('uninstall revokes every token of the app on the shop', () => {
  for (const kind of ['non-expiring offline', 'expiring offline', 'online', 'client credentials'] as const) {
    it(`${kind}: Admin API 401`, async () => {
      const { emulator, tokens } = await everyKind();
      emulator.uninstall(SHOP, APP.clientId);
      await assertRevoked(emulator, kind, tokens[kind]);
    });
  }

  it('client credentials are then refused (shop_not_permitted) until the app is installed again', async () => {
    const { emulator } = await everyKind();
    emulator.uninstall(SHOP, APP.clientId);
    const refused = await tokenRequest(emulator, { ...CREDENTIALS, grant_type: 'client_credentials' });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), {
      error: 'shop_not_permitted',
      error_description: 'Client credentials cannot be performed on this shop.',
    });
    emulator.install(SHOP, APP.clientId);
    const again = await tokenRequest(emulator, { ...CREDENTIALS, grant_type: 'client_credentials' });
    assert.equal(again.status, 200);
  });

  it('a code issued before the uninstall no longer exchanges', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    emulator.uninstall(SHOP, APP.clientId);
    const response = await tokenRequest(emulator, { ...CREDENTIALS, code });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid_request',
      error_description: 'The authorization code was not found or was already used',
    });
  });

  it('POST /_emulator/uninstall does the same', async () => {
    const { emulator, tokens } = await everyKind();
    assert.equal((await control(emulator, 'uninstall', { shop: SHOP, clientId: APP.clientId })).status, 200);
    for (const [kind, token] of Object.entries(tokens)) await assertRevoked(emulator, kind, token);
  });

  it('leaves other shops and other apps alone', async () => {
    const other = { ...APP, clientId: 'other-app', clientSecret: 'shpss_other_secret' };
    const { emulator } = setup({ apps: [APP, other] });
    const here = await exchange(emulator, (await install(emulator)).code);
    const thereCode = (await install(emulator, { shop: OTHER_SHOP })).code;
    const there = (await (
      await tokenRequest(emulator, { ...CREDENTIALS, code: thereCode }, { shop: OTHER_SHOP })
    ).json()) as { access_token: string };
    const { code } = await install(emulator, { params: authorizeParams({ client_id: other.clientId }) });
    const otherApp = (await (
      await tokenRequest(emulator, { client_id: other.clientId, client_secret: other.clientSecret, code })
    ).json()) as { access_token: string };
    emulator.uninstall(SHOP, APP.clientId);
    assert.equal((await graphql(emulator, String(here.access_token), QUERY)).status, 401);
    assert.equal((await graphql(emulator, String(there.access_token), QUERY, { shop: OTHER_SHOP })).status, 200);
    assert.equal((await graphql(emulator, otherApp.access_token, QUERY)).status, 200);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {
      [other.clientId]: ['write_products', 'read_orders', 'read_customers'],
    });
  });
});
