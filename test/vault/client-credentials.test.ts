/**
 * Client-credentials tokens through the emulator (its clock is the vault's): acquired, renewed after
 * 80 % of the lifetime (and no earlier), one grant for many callers, refused for a store of another
 * organization, transient faults retried; and the renewal schedule itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/protocol/migration.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { renewalTime } from '../../src/vault/renewal.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, inProcessFetch, ORIGIN } from '../helpers/emulator-install.ts';

const SHOP = 'own-store.myshopify.com';
const LIFETIME = 86_399_000;
const MINUTE = 60_000;

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  emulator.setOrganizationApp(SHOP, APP.clientId);
  emulator.install(SHOP, APP.clientId, ['write_products']);
  const sleeps: number[] = [];
  const storage = createMemoryStorage();
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: { ...APP, baseUrl: `${ORIGIN}/{shop}`, fetch: inProcessFetch(emulator) },
    refresh: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
  return { emulator, vault, storage, sleeps };
}

const grants = (emulator: Emulator) => emulator.grants().filter((grant) => grant.grantType === 'client_credentials');

describe('renewalTime', () => {
  it('is 80 % of the lifetime when that comes first (a 24 h token)', () => {
    assert.equal(renewalTime(1000, 1000 + LIFETIME, 5 * MINUTE), 1000 + LIFETIME * 0.8);
  });

  it('is 5 minutes before expiry when that comes first (a short token)', () => {
    assert.equal(renewalTime(0, 20 * MINUTE, 0), 15 * MINUTE);
  });

  it('honours a caller margin larger than 5 minutes', () => {
    assert.equal(renewalTime(0, 60 * MINUTE, 15 * MINUTE), 45 * MINUTE);
  });
});

describe('client credentials through the emulator', () => {
  it('acquires a token that works and is served as is until 80 % of its lifetime', async () => {
    const { emulator, vault, storage } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    assert.equal(acquired.grant, 'client_credentials');
    assert.equal(acquired.expiring, false, 'no refresh token');
    const issuedAt = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.issuedAt;
    assert.equal(typeof issuedAt, 'number');
    assert.equal(acquired.expiresAt?.getTime(), Number(issuedAt) + LIFETIME);
    assert.equal(await adminStatus(emulator, SHOP, acquired.accessToken), ADMIN_QUERY_OK);
    assert.ok(!JSON.stringify(await storage.list({ limit: 10_000 })).includes(acquired.accessToken), 'stored sealed');

    emulator.clock.advance(LIFETIME * 0.8 - MINUTE);
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken);
    assert.equal(grants(emulator).length, 1);
  });

  it('renews after 80 % of the lifetime, before expiry; the new token works', async () => {
    const { emulator, vault } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.8 + 1);
    const renewed = await vault.token(SHOP);
    assert.notEqual(renewed.accessToken, acquired.accessToken);
    assert.equal(grants(emulator).length, 2);
    assert.ok((renewed.expiresAt?.getTime() ?? 0) > (acquired.expiresAt?.getTime() ?? 0));
    assert.equal(await adminStatus(emulator, SHOP, renewed.accessToken), ADMIN_QUERY_OK);
    assert.equal((await vault.token(SHOP)).accessToken, renewed.accessToken, 'stored and reused');
  });

  it('many concurrent callers of a due token cause one grant', async () => {
    const { emulator, vault } = setup();
    await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME);
    const tokens = await Promise.all(Array.from({ length: 100 }, () => vault.token(SHOP)));
    assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
    assert.equal(grants(emulator).length, 2);
  });

  it('a store of another organization: a clear error naming shop_not_permitted, nothing stored', async () => {
    const { emulator, vault } = setup();
    const other = 'other-org.myshopify.com';
    await assert.rejects(vault.useClientCredentials(other), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_OAUTH_RESPONSE');
      assert.match(error.message, /shop_not_permitted/);
      assert.match(error.message, /own organization/);
      assert.ok(!error.message.includes(APP.clientSecret));
      return true;
    });
    assert.equal(await vault.offline(other), null);
    assert.equal(grants(emulator).length, 1, 'a refusal is not retried');
  });

  it('a transient fault during renewal is retried with backoff', async () => {
    const { emulator, vault, sleeps } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.9);
    emulator.faults.add({ endpoint: 'token', grantType: 'client_credentials', status: 503 });
    const renewed = await vault.token(SHOP);
    assert.notEqual(renewed.accessToken, acquired.accessToken);
    assert.deepEqual(
      emulator
        .requests()
        .filter((request) => request.grantType === 'client_credentials')
        .map((request) => request.status),
      [200, 503, 200],
    );
    assert.equal(sleeps.length, 1);
  });

  it('is not migrated: the plan lists it as expiring and a migration sends nothing', async () => {
    const { emulator, vault } = setup();
    await vault.useClientCredentials(SHOP);
    assert.deepEqual(await vault.migrationPlan(), [{ shop: SHOP, state: 'expiring' }]);
    assert.equal((await vault.migrateToExpiring(SHOP)).status, 'already_expiring');
    assert.equal(emulator.grants().filter((grant) => grant.grantType === TOKEN_EXCHANGE_GRANT).length, 0);
  });
});

/** Client-credentials requests, including those a fault answered. */
const sent = (emulator: Emulator) =>
  emulator.requests().filter((request) => request.grantType === 'client_credentials');

describe('client credentials refused', () => {
  it('renewal refused shop_not_permitted (the app was uninstalled): the shop is marked needs_reauth once', async () => {
    const { emulator, vault, storage } = setup();
    const events: unknown[] = [];
    vault.on('needs_reauth', (event) => {
      events.push(event);
    });
    await vault.useClientCredentials(SHOP);
    emulator.uninstall(SHOP, APP.clientId);
    emulator.clock.advance(LIFETIME);
    await assert.rejects(vault.token(SHOP), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_NEEDS_REAUTH');
      assert.match(error.message, /shop_not_permitted/);
      return true;
    });
    assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'needs_reauth');
    assert.deepEqual(events, [{ shop: SHOP, reason: 'shop_not_permitted' }]);
    await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(
      grants(emulator).map((grant) => grant.status),
      [200, 400],
    );
  });

  it('acquisition refused invalid_client: ERR_APP_CREDENTIALS, nothing stored, no shop marked', async () => {
    const { emulator, vault } = setup();
    emulator.faults.add({ endpoint: 'token', grantType: 'client_credentials', status: 401, error: 'invalid_client' });
    await assert.rejects(vault.useClientCredentials(SHOP), { code: 'ERR_APP_CREDENTIALS' });
    assert.equal(await vault.offline(SHOP), null);
    assert.equal(vault.appCredentials().status, 'rejected');
    // Fail fast: a second acquisition within the probe interval sends nothing.
    await assert.rejects(vault.useClientCredentials(SHOP), { code: 'ERR_APP_CREDENTIALS' });
    assert.equal(sent(emulator).length, 1);
  });

  it('renewal refused invalid_client: the token still valid is served, the state is rejected, nothing marked', async () => {
    const { emulator, vault, storage } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.85); // due for renewal, hours of validity left
    emulator.faults.add({ endpoint: 'token', grantType: 'client_credentials', status: 401, error: 'invalid_client' });
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken);
    assert.equal(vault.appCredentials().status, 'rejected');
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken, 'served without a request');
    assert.equal(sent(emulator).length, 2);
    assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
    // Once it is no longer valid for the margin, the caller is told why.
    await assert.rejects(vault.token(SHOP, { marginMs: LIFETIME }), { code: 'ERR_APP_CREDENTIALS' });
  });

  it('renewal answered 404: held, recorded, the valid token served meanwhile, never marked', async () => {
    const { emulator, vault, storage } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.85);
    emulator.faults.add({ endpoint: 'token', grantType: 'client_credentials', status: 404 });
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken);
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken);
    assert.equal(sent(emulator).length, 2, 'held: no second request');
    const row = await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.deepEqual([row?.status, row?.lastRefreshError], ['active', 'invalid_request (HTTP 404)']);
    await assert.rejects(vault.token(SHOP, { marginMs: LIFETIME }), { code: 'ERR_REFRESH_DEFERRED' });
    emulator.clock.advance(5 * MINUTE);
    assert.notEqual((await vault.token(SHOP)).accessToken, acquired.accessToken, 'renewed after the hold');
  });
});
