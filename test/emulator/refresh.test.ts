/** The refresh grant: rotation, the previous token's retry window, retirement and revocation. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  control,
  DAY,
  DEAD,
  graphql,
  HOUR,
  installExpiring,
  type Pair,
  refresh,
  SHOP,
  setup,
  tokenRequest,
} from './helpers.ts';

const SHOP_QUERY = '{ shop { name } }';

async function works(emulator: Parameters<typeof graphql>[0], token: string): Promise<boolean> {
  const status = (await graphql(emulator, token, SHOP_QUERY)).status;
  assert.ok(status === 200 || status === 401, `unexpected status ${status}`);
  return status === 200;
}

describe('refresh_token grant: rotation', () => {
  it('answers a new pair in the shape of reference §3.2', async () => {
    const { emulator } = setup();
    const first = await installExpiring(emulator);
    const { status, body } = await refresh(emulator, first.refresh_token);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body), [
      'access_token',
      'expires_in',
      'refresh_token',
      'refresh_token_expires_in',
      'scope',
    ]);
    assert.match(String(body.access_token), /^shpat_[0-9a-f]{32}$/);
    assert.match(String(body.refresh_token), /^shprt_[0-9a-f]{32}$/);
    assert.notEqual(body.access_token, first.access_token);
    assert.notEqual(body.refresh_token, first.refresh_token);
    assert.equal(body.expires_in, 3600);
    assert.equal(body.refresh_token_expires_in, 7_776_000);
    assert.equal(body.scope, first.scope);
    assert.ok(await works(emulator, String(body.access_token)));
  });

  it('accepts a form body', async () => {
    const { emulator } = setup();
    const first = await installExpiring(emulator);
    assert.equal((await refresh(emulator, first.refresh_token, { form: true })).status, 200);
  });

  it('gives the new refresh token a fresh 90 days from the refresh', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    advance(60 * DAY);
    const second = (await refresh(emulator, first.refresh_token)).body as unknown as Pair;
    advance(89 * DAY);
    assert.equal(
      (await refresh(emulator, second.refresh_token)).status,
      200,
      '149 days after install, 89 after refresh',
    );
  });

  it('keeps the previous access token working until its own expiry', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    advance(30 * 60_000);
    await refresh(emulator, first.refresh_token);
    assert.ok(await works(emulator, first.access_token));
    advance(30 * 60_000 - 1);
    assert.ok(await works(emulator, first.access_token));
    advance(1);
    assert.ok(!(await works(emulator, first.access_token)), 'an hour after it was issued');
  });
});

describe('refresh_token grant: the previous refresh token', () => {
  it('a retry with it answers the same pair', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    const rotated = (await refresh(emulator, first.refresh_token)).body;
    advance(10 * 60_000);
    const retry = await refresh(emulator, first.refresh_token);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.access_token, rotated.access_token);
    assert.equal(retry.body.refresh_token, rotated.refresh_token);
    assert.equal(retry.body.expires_in, 3000, 'what remains of the same access token');
    assert.equal(retry.body.refresh_token_expires_in, 7_776_000 - 600);
  });

  it('a retry after the access token lapsed answers the same pair with the access token extended', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    const rotated = (await refresh(emulator, first.refresh_token)).body as unknown as Pair;
    advance(2 * HOUR);
    assert.ok(!(await works(emulator, rotated.access_token)));
    const retry = await refresh(emulator, first.refresh_token);
    assert.equal(retry.body.access_token, rotated.access_token);
    assert.equal(retry.body.expires_in, 3600);
    assert.ok(await works(emulator, rotated.access_token));
  });

  it('is retired once the replacement is used: the dead-token answer', async () => {
    const { emulator } = setup();
    const first = await installExpiring(emulator);
    const second = (await refresh(emulator, first.refresh_token)).body as unknown as Pair;
    const third = await refresh(emulator, second.refresh_token);
    assert.equal(third.status, 200);
    const stale = await refresh(emulator, first.refresh_token);
    assert.equal(stale.status, 401);
    assert.deepEqual(stale.body, DEAD);
    // The replacement itself is now the previous token: still retryable, same pair.
    assert.equal((await refresh(emulator, second.refresh_token)).body.refresh_token, third.body.refresh_token);
  });

  it('stays retryable for 30 days from its first use, not longer', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    await refresh(emulator, first.refresh_token);
    advance(30 * DAY - 1);
    assert.equal((await refresh(emulator, first.refresh_token)).status, 200);
    advance(1);
    const late = await refresh(emulator, first.refresh_token);
    assert.equal(late.status, 401);
    assert.deepEqual(late.body, DEAD);
  });

  it('is never retryable past its own 90-day expiry', async () => {
    const { emulator, advance } = setup();
    const first = await installExpiring(emulator);
    advance(80 * DAY);
    assert.equal((await refresh(emulator, first.refresh_token)).status, 200);
    advance(10 * DAY - 1);
    assert.equal((await refresh(emulator, first.refresh_token)).status, 200, 'day 90 minus 1 ms');
    advance(1);
    assert.deepEqual((await refresh(emulator, first.refresh_token)).body, DEAD, 'day 90, within 30 days of use');
  });
});

describe('refresh_token grant: one active expiring grant per app and shop', () => {
  it('a new authorization-code token retires the old refresh token; the old access token lives until expiry', async () => {
    const { emulator, advance } = setup();
    const old = await installExpiring(emulator);
    advance(10 * 60_000);
    const fresh = await installExpiring(emulator);
    assert.deepEqual((await refresh(emulator, old.refresh_token)).body, DEAD);
    assert.ok(await works(emulator, old.access_token));
    advance(50 * 60_000 - 1);
    assert.ok(await works(emulator, old.access_token));
    advance(1);
    assert.ok(!(await works(emulator, old.access_token)));
    assert.equal((await refresh(emulator, fresh.refresh_token)).status, 200);
  });

  it('a new authorization-code token also retires a previous (retryable) refresh token', async () => {
    const { emulator } = setup();
    const old = await installExpiring(emulator);
    await refresh(emulator, old.refresh_token);
    await installExpiring(emulator);
    assert.deepEqual((await refresh(emulator, old.refresh_token)).body, DEAD);
  });
});

describe('refresh_token grant: rejections', () => {
  it('unknown, lapsed (90 days) and other-shop refresh tokens are the dead-token answer', async () => {
    const { emulator, advance } = setup();
    assert.deepEqual((await refresh(emulator, 'shprt_00000000000000000000000000000000')).body, DEAD);
    const other = await installExpiring(emulator, 'other-shop.myshopify.com');
    assert.deepEqual((await refresh(emulator, other.refresh_token)).body, DEAD, 'sent to cool-shop');
    const pair = await installExpiring(emulator);
    advance(90 * DAY);
    const lapsed = await refresh(emulator, pair.refresh_token);
    assert.equal(lapsed.status, 401);
    assert.deepEqual(lapsed.body, DEAD);
  });

  it('a wrong client secret is invalid_client and does not use the token', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    const wrong = await refresh(emulator, pair.refresh_token, { secret: `${APP.clientSecret}x` });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body, { error: 'invalid_client', error_description: 'Client authentication failed' });
    const right = await refresh(emulator, pair.refresh_token);
    assert.equal(right.status, 200);
    const retry = await refresh(emulator, pair.refresh_token);
    assert.equal(retry.body.refresh_token, right.body.refresh_token, 'the first successful use was the right one');
  });

  it('a missing refresh_token is invalid_request', async () => {
    const { emulator } = setup();
    const response = await tokenRequest(emulator, {
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      grant_type: 'refresh_token',
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });
});

describe('revocation', () => {
  it('revokeRefreshTokens: refresh answers the dead-token answer; access tokens live on', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    const second = (await refresh(emulator, pair.refresh_token)).body as unknown as Pair;
    emulator.revokeRefreshTokens(SHOP, APP.clientId);
    assert.deepEqual((await refresh(emulator, second.refresh_token)).body, DEAD);
    assert.deepEqual((await refresh(emulator, pair.refresh_token)).body, DEAD);
    assert.ok(await works(emulator, second.access_token));
    assert.throws(() => emulator.revokeRefreshTokens('not a shop', APP.clientId), /shop must be/);
    assert.throws(() => emulator.revokeRefreshTokens(SHOP, 'nobody'), /clientId must be/);
  });

  it('POST /_emulator/revoke does the same, and refuses bad input', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    for (const body of [{ shop: SHOP }, { shop: 'nope', clientId: APP.clientId }, { shop: SHOP, clientId: 'x' }]) {
      assert.equal((await control(emulator, 'revoke', body)).status, 400);
    }
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 200, 'bad input changed nothing');
    const response = await control(emulator, 'revoke', { shop: SHOP, clientId: APP.clientId });
    assert.equal(response.status, 200);
    assert.deepEqual((await refresh(emulator, pair.refresh_token)).body, DEAD);
  });

  it('uninstall retires refresh tokens and access tokens', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    emulator.uninstall(SHOP, APP.clientId);
    assert.deepEqual((await refresh(emulator, pair.refresh_token)).body, DEAD);
    assert.ok(!(await works(emulator, pair.access_token)));
  });
});
