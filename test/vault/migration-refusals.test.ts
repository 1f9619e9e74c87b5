/**
 * vault.migrateToExpiring when Shopify refuses, through the emulator on a frozen clock, one refusal
 * per case: `invalid_subject_token` (the non-expiring token is dead: failed and marked), answers it
 * does not document (failed, intent and token kept, a rerun migrates), and `invalid_client` (the
 * app's credentials: failed, nothing marked, later migrations not attempted until they work again).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRule } from '../../src/emulator/index.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/protocol/migration.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, emulatorVault, installInto } from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER = 'other-shop.myshopify.com';
const MINUTE = 60_000;

async function setup() {
  const { clock, emulator, storage, vault } = emulatorVault();
  const events: { name: string; [key: string]: unknown }[] = [];
  for (const name of ['needs_reauth', 'app_credentials_rejected', 'app_credentials_restored'] as const) {
    vault.on(name, (event) => {
      events.push({ name, ...event });
    });
  }
  const old = await installInto(emulator, vault, SHOP);
  const exchanges = () =>
    emulator
      .requests()
      .filter((request) => request.grantType === TOKEN_EXCHANGE_GRANT)
      .map((request) => request.status);
  const row = async (shop = SHOP) => (await storage.get({ app: '', shop: shop, kind: 'offline', userId: '' }))!;
  return { clock, emulator, storage, vault, events, old, exchanges, row };
}

const exchangeFault = (rule: Omit<FaultRule, 'endpoint' | 'grantType'>): FaultRule => ({
  endpoint: 'token',
  grantType: TOKEN_EXCHANGE_GRANT,
  ...rule,
});

describe('migration refusals', () => {
  it('invalid_subject_token (an uninstalled shop): failed, and the shop marked needs_reauth once', async () => {
    const t = await setup();
    t.emulator.uninstall(SHOP, APP.clientId);
    assert.deepEqual(await t.vault.migrateToExpiring(SHOP), {
      shop: SHOP,
      status: 'failed',
      reason: 'invalid_subject_token (HTTP 400)',
    });
    const row = await t.row();
    assert.equal(row.status, 'needs_reauth');
    assert.equal(row.lastRefreshError, 'invalid_subject_token');
    assert.equal(row.migrationStartedAt, null, 'Shopify holds no pair for it: nothing to finish');
    assert.deepEqual(t.events, [{ name: 'needs_reauth', shop: SHOP, reason: 'invalid_subject_token' }]);
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    // Marked: a rerun sends nothing and emits nothing.
    assert.equal((await t.vault.migrateToExpiring(SHOP)).status, 'failed');
    assert.deepEqual(t.exchanges(), [400]);
    assert.equal(t.events.length, 1);
  });

  for (const [name, rule] of [
    ['a 404', exchangeFault({ status: 404 })],
    ['an undocumented 400 (invalid_request)', exchangeFault({ status: 400, error: 'invalid_request' })],
  ] as const) {
    it(`${name}: failed, intent and token kept, not marked; a rerun migrates`, async () => {
      const t = await setup();
      t.emulator.faults.add(rule);
      const result = await t.vault.migrateToExpiring(SHOP);
      assert.equal(result.status, 'failed');
      assert.match(result.reason ?? '', /HTTP (404|400)/);
      const row = await t.row();
      assert.equal(row.status, 'active');
      assert.equal(typeof row.migrationStartedAt, 'number', 'the intent stays: retry within the 7-day window');
      assert.equal((await t.vault.offline(SHOP))?.accessToken, t.old.accessToken);
      assert.deepEqual(await t.vault.migrationPlan(), [{ shop: SHOP, state: 'started' }]);
      assert.deepEqual(t.events, []);
      assert.deepEqual(await t.vault.migrateToExpiring(SHOP), { shop: SHOP, status: 'migrated', reason: null });
      assert.equal(await adminStatus(t.emulator, SHOP, (await t.vault.token(SHOP)).accessToken), ADMIN_QUERY_OK);
    });
  }

  it('a 2xx without expires_in: failed, nothing stored; the rerun gets the same pair (the exchange was applied)', async () => {
    const t = await setup();
    t.emulator.faults.add(exchangeFault({ omitFields: ['expires_in'] }));
    const result = await t.vault.migrateToExpiring(SHOP);
    assert.equal(result.status, 'failed');
    assert.equal((await t.row()).refreshToken, null, 'nothing stored');
    assert.equal(await adminStatus(t.emulator, SHOP, t.old.accessToken), 401, 'Shopify applied the exchange');
    // vault.token finishes the started migration instead of serving the revoked token.
    const token = await t.vault.token(SHOP);
    assert.equal(token.expiring, true);
    assert.equal(await adminStatus(t.emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
    assert.deepEqual(t.exchanges(), [200, 200]);
  });

  it('invalid_client: failed with the reason, nothing marked; the next shop is not attempted; recovers by a probe', async () => {
    const t = await setup();
    await installInto(t.emulator, t.vault, OTHER);
    t.emulator.faults.add(exchangeFault({ status: 401, error: 'invalid_client', times: 2 }));
    assert.deepEqual(await t.vault.migrateToExpiring(SHOP), {
      shop: SHOP,
      status: 'failed',
      reason: 'invalid_client (HTTP 401)',
    });
    assert.deepEqual(await t.vault.migrateToExpiring(OTHER), {
      shop: OTHER,
      status: 'not_attempted',
      reason: 'app credentials rejected',
    });
    assert.deepEqual(t.exchanges(), [401], 'no exchange for the second shop');
    assert.deepEqual(t.events, [
      { name: 'app_credentials_rejected', grant: 'migration', reason: 'invalid_client (HTTP 401)' },
    ]);
    // Refused before Shopify looked at the token: the intent goes, the token is still served.
    for (const shop of [SHOP, OTHER]) {
      const row = await t.row(shop);
      assert.deepEqual([row.status, row.migrationStartedAt], ['active', null]);
    }
    assert.equal((await t.vault.token(SHOP)).accessToken, t.old.accessToken);

    // A minute later one probe goes (refused); another minute later Shopify accepts: restored.
    t.clock.advance(MINUTE);
    assert.equal((await t.vault.migrateToExpiring(OTHER)).status, 'failed');
    assert.equal((await t.vault.migrateToExpiring(SHOP)).status, 'not_attempted');
    t.clock.advance(MINUTE);
    assert.equal((await t.vault.migrateToExpiring(SHOP)).status, 'migrated');
    assert.equal((await t.vault.migrateToExpiring(OTHER)).status, 'migrated');
    assert.deepEqual(t.exchanges(), [401, 401, 200, 200]);
    assert.deepEqual(
      t.events.map((event) => event.name),
      ['app_credentials_rejected', 'app_credentials_restored'],
    );
  });
});
