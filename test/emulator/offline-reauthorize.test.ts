/**
 * Authorizing offline again (reference §3.1): "Getting offline tokens for the same shop and
 * installation returns the same access token each time" — a non-expiring token is the
 * installation's, and takes the new scopes when they change. Expiring grants keep their rule (a
 * new grant retires the older refresh tokens). Uninstall then reinstall: a new installation, a new
 * token, and the old one stays revoked.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  authorizeParams,
  CREDENTIALS,
  DEAD,
  exchange,
  type get,
  graphql,
  install,
  installExpiring,
  type Pair,
  refresh,
  SHOP,
  setup,
  tokenRequest,
} from './helpers.ts';

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

/** The access scopes the Admin API reports for `token`, or its status when refused. */
async function accessScopes(emulator: Parameters<typeof get>[0], token: string): Promise<string[] | number> {
  const response = await emulator.fetch(
    new Request(`http://emulator.test/${SHOP}/admin/oauth/access_scopes.json`, {
      headers: { 'x-shopify-access-token': token },
    }),
  );
  if (response.status !== 200) return response.status;
  return ((await response.json()) as { access_scopes: { handle: string }[] }).access_scopes.map((s) => s.handle);
}

/** Installs (consent as Olivia) with `scope` and exchanges the code for a non-expiring token. */
async function offlineToken(emulator: Parameters<typeof get>[0], scope: string) {
  const { code } = await install(emulator, { params: authorizeParams({ scope }) });
  return (await exchange(emulator, code)) as { access_token: string; scope: string };
}

describe('non-expiring offline token: the same token for the same installation', () => {
  it('the same token and scopes when nothing changed', async () => {
    const { emulator } = setup();
    const first = await offlineToken(emulator, 'read_products');
    const again = await offlineToken(emulator, 'read_products');
    assert.equal(again.access_token, first.access_token);
    assert.equal(again.scope, 'read_products');
  });

  it('the same token with the wider scopes after a new consent; the Admin API sees them at once', async () => {
    const { emulator } = setup();
    const first = await offlineToken(emulator, 'read_products');
    assert.deepEqual(await accessScopes(emulator, first.access_token), ['read_products']);
    const wider = await offlineToken(emulator, 'write_products,read_customers');
    assert.equal(wider.access_token, first.access_token);
    assert.equal(wider.scope, 'write_products,read_customers');
    assert.deepEqual(await accessScopes(emulator, first.access_token), [
      'write_products',
      'read_products',
      'read_customers',
    ]);
    const customers = await graphql(emulator, first.access_token, '{ customers(first: 1) { nodes { id } } }');
    assert.equal(((await customers.json()) as { errors?: unknown }).errors, undefined, 'read_customers now granted');
  });

  it('emulator.install widens the installation; the token takes the scopes at its next exchange', async () => {
    const { emulator } = setup({ apps: [{ ...APP, scopes: ['read_products'] }] });
    const first = await offlineToken(emulator, 'read_products');
    emulator.install(SHOP, APP.clientId, ['read_orders']);
    assert.deepEqual(await accessScopes(emulator, first.access_token), ['read_products'], 'not before');
    const { code } = await install(emulator, { action: 'login', params: authorizeParams({ scope: null }) });
    const again = await exchange(emulator, code);
    assert.equal(again.access_token, first.access_token);
    assert.equal(again.scope, 'read_products,read_orders');
  });

  it('uninstall then reinstall: a new token; the old one stays revoked', async () => {
    const { emulator } = setup();
    const first = await offlineToken(emulator, 'read_products');
    emulator.uninstall(SHOP, APP.clientId);
    const second = await offlineToken(emulator, 'read_products');
    assert.notEqual(second.access_token, first.access_token);
    const old = await graphql(emulator, first.access_token, '{ shop { name } }');
    assert.equal(old.status, 401);
    assert.deepEqual(await old.json(), UNAUTHORIZED);
    assert.equal((await graphql(emulator, second.access_token, '{ shop { name } }')).status, 200);
  });

  it('after a migration, a non-expiring exchange is a new token (the migrated one stays revoked)', async () => {
    const { emulator } = setup();
    const first = await offlineToken(emulator, 'read_products');
    const migrated = await tokenRequest(emulator, {
      ...CREDENTIALS,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: first.access_token,
      subject_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token',
      requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token',
      expiring: '1',
    });
    assert.equal(migrated.status, 200);
    const next = await offlineToken(emulator, 'read_products');
    assert.notEqual(next.access_token, first.access_token);
    assert.equal(await accessScopes(emulator, first.access_token), 401);
  });
});

describe('expiring offline tokens keep their rule', () => {
  it('a new grant with changed scopes is a new pair with them; the old refresh token is dead', async () => {
    const { emulator } = setup();
    const old = await installExpiring(emulator);
    const { code } = await install(emulator, { params: authorizeParams({ scope: 'write_customers' }) });
    const response = await tokenRequest(emulator, { ...CREDENTIALS, code, expiring: '1' });
    const fresh = (await response.json()) as Pair;
    assert.notEqual(fresh.access_token, old.access_token);
    assert.notEqual(fresh.refresh_token, old.refresh_token);
    assert.equal(fresh.scope, 'write_products,read_orders,write_customers');
    const stale = await refresh(emulator, old.refresh_token);
    assert.equal(stale.status, 401);
    assert.deepEqual(stale.body, DEAD);
    assert.equal((await refresh(emulator, fresh.refresh_token)).body.scope, fresh.scope);
  });
});
