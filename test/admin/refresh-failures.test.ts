/**
 * createAdmin when the forced refresh after a 401 fails for a reason that is not the shop's: the
 * app's credentials refused, an undocumented answer (404), Shopify unreachable. Each is thrown as
 * it is, with no retry of the query and no shop marked. One failure per case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppCredentialsError, RefreshDeferredError } from '../../src/errors.ts';
import { graphqlStatuses, installOffline, refreshGrants, SHOP, setup } from './fixture.ts';

const SHOP_QUERY = '{ shop { name } }';

async function failedRequest(t: ReturnType<typeof setup>) {
  return t
    .admin(SHOP)
    .request(SHOP_QUERY)
    .catch((error: unknown) => error);
}

async function assertNothingMarked(t: ReturnType<typeof setup>) {
  const row = await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
  assert.equal(row?.status, 'active');
  assert.deepEqual(t.events, []);
  assert.deepEqual(graphqlStatuses(t.emulator), [401], 'the query is not retried without a new token');
}

describe('admin(shop): a 401 whose refresh fails for a reason that is not the shop’s', () => {
  it('the app’s credentials refused (invalid_client): ERR_APP_CREDENTIALS, nothing marked', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401 });
    t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 401, error: 'invalid_client' });
    const error = await failedRequest(t);
    assert.ok(error instanceof AppCredentialsError);
    assert.equal(error.code, 'ERR_APP_CREDENTIALS');
    await assertNothingMarked(t);
    assert.equal(t.vault.appCredentials().status, 'rejected');
  });

  it('a 404 from the token endpoint: ERR_REFRESH_DEFERRED (retryable), nothing marked', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401 });
    t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 404 });
    const error = await failedRequest(t);
    assert.ok(error instanceof RefreshDeferredError);
    assert.equal(error.retryable, true);
    await assertNothingMarked(t);
  });

  it('Shopify unreachable through every retry: the retryable error, nothing marked', async () => {
    const t = setup();
    await installOffline(t);
    t.emulator.faults.add({ endpoint: 'graphql', status: 401 });
    t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 503, times: 4 });
    const error = await failedRequest(t);
    assert.equal((error as { retryable?: boolean }).retryable, true);
    assert.notEqual((error as { code?: string }).code, 'ERR_NEEDS_REAUTH');
    await assertNothingMarked(t);
    assert.equal(refreshGrants(t.emulator).length, 0, 'every refresh met the fault');
  });
});
