/** Migration of a non-expiring offline token to an expiring pair by token exchange (reference §3.3). */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  CREDENTIALS,
  DAY,
  exchange,
  graphql,
  HOUR,
  install,
  type Pair,
  refresh,
  SHOP,
  setup,
  tokenRequest,
} from './helpers.ts';

const OFFLINE = 'urn:shopify:params:oauth:token-type:offline-access-token';
const INVALID_SUBJECT = {
  error: 'invalid_subject_token',
  error_description: 'Token exchange cannot be performed due to an invalid subject token.',
};
const QUERY = '{ shop { name } }';

type Emu = Parameters<typeof tokenRequest>[0];

async function nonExpiring(emulator: Emu): Promise<string> {
  return String((await exchange(emulator, (await install(emulator)).code)).access_token);
}

function migrate(emulator: Emu, subject: string, extra: Record<string, unknown> = {}) {
  return tokenRequest(emulator, {
    ...CREDENTIALS,
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subject,
    subject_token_type: OFFLINE,
    requested_token_type: OFFLINE,
    expiring: '1',
    ...extra,
  });
}

async function migrated(emulator: Emu, subject: string, extra: Record<string, unknown> = {}): Promise<Pair> {
  const response = await migrate(emulator, subject, extra);
  assert.equal(response.status, 200);
  return (await response.json()) as Pair;
}

describe('migration token exchange', () => {
  it('answers an expiring pair and revokes the non-expiring token', async () => {
    const { emulator } = setup();
    const old = await nonExpiring(emulator);
    const pair = await migrated(emulator, old, { expiring: 1 });
    assert.deepEqual(Object.keys(pair), [
      'access_token',
      'expires_in',
      'refresh_token',
      'refresh_token_expires_in',
      'scope',
    ]);
    assert.equal(pair.expires_in, 3600);
    assert.equal(pair.refresh_token_expires_in, 7_776_000);
    assert.equal(pair.scope, 'write_products,read_orders,read_customers');
    assert.equal((await graphql(emulator, old, QUERY)).status, 401, 'the original token stops working');
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 200);
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 200);
  });

  it('a retry within 7 days answers the same pair, extending a lapsed access token only', async () => {
    const { emulator, advance } = setup();
    const old = await nonExpiring(emulator);
    const pair = await migrated(emulator, old);
    advance(HOUR);
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 401);
    advance(7 * DAY - HOUR - 1);
    const retry = await migrated(emulator, old);
    assert.equal(retry.access_token, pair.access_token);
    assert.equal(retry.refresh_token, pair.refresh_token);
    assert.equal(retry.expires_in, 3600, 'the access token is extended');
    // 7 days minus 1 ms have passed: what remains of the refresh token, rounded up.
    assert.equal(retry.refresh_token_expires_in, 7_776_000 - 604_800 + 1, 'not the refresh token');
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 200);
    advance(1);
    const late = await migrate(emulator, old);
    assert.equal(late.status, 400);
    assert.deepEqual(await late.json(), INVALID_SUBJECT);
  });

  it('the retry window ends once the pair is refreshed', async () => {
    const { emulator } = setup();
    const old = await nonExpiring(emulator);
    const pair = await migrated(emulator, old);
    await refresh(emulator, pair.refresh_token);
    const response = await migrate(emulator, old);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), INVALID_SUBJECT);
  });

  it('the retry window ends once the pair is replaced by a new authorization-code token', async () => {
    const { emulator } = setup();
    const old = await nonExpiring(emulator);
    const pair = await migrated(emulator, old);
    await exchange(emulator, (await install(emulator)).code, { expiring: '1' });
    assert.deepEqual(await (await migrate(emulator, old)).json(), INVALID_SUBJECT);
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 401, 'the migrated grant is retired');
  });

  it('an unknown subject, or the token of an uninstalled app, is invalid_subject_token', async () => {
    const { emulator } = setup();
    assert.deepEqual(await (await migrate(emulator, 'shpat_00000000000000000000000000000000')).json(), INVALID_SUBJECT);
    const old = await nonExpiring(emulator);
    emulator.uninstall(SHOP, APP.clientId);
    const response = await migrate(emulator, old);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), INVALID_SUBJECT);
  });

  it('an expiring access token or another shop’s token is not a valid subject', async () => {
    const { emulator } = setup();
    const expiring = await exchange(emulator, (await install(emulator)).code, { expiring: '1' });
    assert.deepEqual(await (await migrate(emulator, String(expiring.access_token))).json(), INVALID_SUBJECT);
    const { code } = await install(emulator, { shop: 'other-shop.myshopify.com' });
    const response = await tokenRequest(emulator, { ...CREDENTIALS, code }, { shop: 'other-shop.myshopify.com' });
    const other = (await response.json()) as { access_token: string };
    assert.deepEqual(await (await migrate(emulator, String(other.access_token))).json(), INVALID_SUBJECT);
    assert.equal(
      (await graphql(emulator, String(other.access_token), QUERY, { shop: 'other-shop.myshopify.com' })).status,
      200,
    );
  });

  it('refuses a missing expiring=1 and bad token types, changing nothing', async () => {
    const { emulator } = setup();
    const old = await nonExpiring(emulator);
    for (const [extra, error] of [
      [{ expiring: undefined }, 'invalid_request'],
      [{ expiring: '0' }, 'invalid_request'],
      [{ requested_token_type: 'urn:shopify:params:oauth:token-type:online-access-token' }, 'invalid_request'],
      [{ subject_token_type: 'urn:example:other' }, 'invalid_subject_token_type'],
      [{ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'unsupported_token_type'],
      [{ subject_token: undefined }, 'invalid_request'],
      [{ client_secret: 'wrong' }, 'invalid_client'],
    ] as const) {
      const response = await migrate(emulator, old, extra);
      assert.equal(response.status, 400, JSON.stringify(extra));
      assert.equal(((await response.json()) as { error: string }).error, error, JSON.stringify(extra));
    }
    assert.equal((await graphql(emulator, old, QUERY)).status, 200, 'the original token still works');
  });
});
