/**
 * The client-credentials grant: only the organization's own stores where the app is installed,
 * 86399 s tokens with the installation's scopes, no refresh token.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { APP, CREDENTIALS, graphql, install, SHOP, setup, tokenRequest } from './helpers.ts';

const ORG_SHOP = 'org-shop.myshopify.com';
const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };
const SHOP_NOT_PERMITTED = {
  error: 'shop_not_permitted',
  error_description: 'Client credentials cannot be performed on this shop.',
};
/** The organization's store, with the app installed (its configured scopes). */
const ORG_INSTALLED = { domain: ORG_SHOP, organizationClientIds: [APP.clientId], installedApps: [APP.clientId] };
const SCOPES_QUERY = '{ currentAppInstallation { accessScopes { handle } } }';

const grantRequest = (emulator: Parameters<typeof tokenRequest>[0], shop: string, extra = {}) =>
  tokenRequest(emulator, { ...CREDENTIALS, grant_type: 'client_credentials', ...extra }, { shop });

describe('client_credentials grant', () => {
  it('a seeded organization shop with the app installed gets a 24 h token with the installation’s scopes', async () => {
    const { emulator, advance } = setup({
      apps: [{ ...APP, scopes: ['write_products', 'read_orders'] }],
      shops: [ORG_INSTALLED],
    });
    const response = await grantRequest(emulator, ORG_SHOP);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['access_token', 'scope', 'expires_in']);
    assert.match(String(body.access_token), /^shpat_[0-9a-f]{32}$/);
    assert.equal(body.scope, 'write_products,read_orders');
    assert.equal(body.expires_in, 86399);

    const token = String(body.access_token);
    const scopes = await graphql(emulator, token, SCOPES_QUERY, { shop: ORG_SHOP });
    assert.equal(scopes.status, 200);
    const handles = (
      (await scopes.json()) as { data: { currentAppInstallation: { accessScopes: { handle: string }[] } } }
    ).data.currentAppInstallation.accessScopes.map((s) => s.handle);
    assert.deepEqual(handles, ['write_products', 'read_products', 'read_orders']);
    assert.equal((await graphql(emulator, token, SCOPES_QUERY)).status, 401, 'not valid on another shop');

    advance(86_399_000 - 1);
    assert.equal((await graphql(emulator, token, SCOPES_QUERY, { shop: ORG_SHOP })).status, 200);
    advance(1);
    assert.equal((await graphql(emulator, token, SCOPES_QUERY, { shop: ORG_SHOP })).status, 401, 'after 86399 s');
  });

  it('uses the installation’s scopes when the app is installed (form body too)', async () => {
    const { emulator } = setup({ apps: [{ ...APP, scopes: ['read_products'] }] });
    await install(emulator);
    emulator.setOrganizationApp(SHOP, APP.clientId);
    const response = await tokenRequest(
      emulator,
      { ...CREDENTIALS, grant_type: 'client_credentials' },
      { shop: SHOP, form: true },
    );
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { scope: string }).scope, 'write_products,read_orders,read_customers');
  });

  it('each request gets a new token; the earlier one keeps working', async () => {
    const { emulator } = setup({ shops: [ORG_INSTALLED] });
    const first = (await (await grantRequest(emulator, ORG_SHOP)).json()) as { access_token: string; scope: string };
    const second = (await (await grantRequest(emulator, ORG_SHOP)).json()) as { access_token: string };
    assert.equal(first.scope, '', 'installed with no configured scopes (the observed "scope":"", reference §4)');
    assert.notEqual(first.access_token, second.access_token);
    assert.equal((await graphql(emulator, first.access_token, '{ shop { name } }', { shop: ORG_SHOP })).status, 200);
  });

  it('a store of another organization, with the app installed, is refused with shop_not_permitted', async () => {
    const { emulator } = setup();
    await install(emulator); // installed on SHOP, but SHOP's organization did not create the app
    const response = await grantRequest(emulator, SHOP);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), SHOP_NOT_PERMITTED);
    assert.equal(emulator.grants().at(-1)?.status, 400);
  });

  it('a store of the organization where the app is not installed is refused with shop_not_permitted', async () => {
    const { emulator } = setup({
      apps: [{ ...APP, scopes: ['read_products'] }],
      shops: [{ domain: ORG_SHOP, organizationClientIds: [APP.clientId] }],
    });
    const response = await grantRequest(emulator, ORG_SHOP);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), SHOP_NOT_PERMITTED);
    assert.deepEqual(emulator.shop(ORG_SHOP)?.installations, {}, 'the refusal installs nothing');
  });

  it('installed with emulator.install: granted, with the installation’s scopes; refused again after uninstall', async () => {
    const { emulator } = setup({ apps: [{ ...APP, scopes: ['read_products'] }] });
    emulator.setOrganizationApp(ORG_SHOP, APP.clientId);
    emulator.install(ORG_SHOP, APP.clientId, ['write_orders']);
    const granted = await grantRequest(emulator, ORG_SHOP);
    assert.equal(granted.status, 200);
    assert.equal(((await granted.json()) as { scope: string }).scope, 'write_orders');
    emulator.uninstall(ORG_SHOP, APP.clientId);
    const refused = await grantRequest(emulator, ORG_SHOP);
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), SHOP_NOT_PERMITTED);
  });

  it('a wrong secret is invalid_client even for an organization shop', async () => {
    const { emulator } = setup({ shops: [ORG_INSTALLED] });
    const response = await grantRequest(emulator, ORG_SHOP, { client_secret: 'wrong' });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), INVALID_CLIENT);
  });

  it('records the grant and checks its options and arguments', async () => {
    const { emulator } = setup({ shops: [ORG_INSTALLED] });
    await grantRequest(emulator, ORG_SHOP);
    const [grant] = emulator.grants();
    assert.equal(grant?.grantType, 'client_credentials');
    assert.equal(grant?.status, 200);
    assert.throws(
      () => emulator.setOrganizationApp('bad', 'nobody'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2);
        return true;
      },
    );
    assert.throws(
      () =>
        createEmulator({
          apps: [{ ...APP, scopes: ['read everything'] }],
          shops: [{ domain: ORG_SHOP, organizationClientIds: [''], installedApps: ['not-registered'] }],
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'apps[0].scopes must be an array of scope handles such as read_products',
          'shops[0].organizationClientIds must be an array of client ids',
          'shops[0].installedApps must be an array of client ids of registered apps',
        ]);
        return true;
      },
    );
  });
});
