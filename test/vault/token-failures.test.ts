/**
 * How the vault reads Shopify's real refresh failures, through the emulator on a frozen clock, one
 * failure per case: the dead-refresh-token 401 (the previous token tried, then needs_reauth once),
 * a 404 (held for a long while, recorded, never marked), an undocumented 4xx, and a 2xx without
 * `expires_in` or `refresh_token_expires_in` (shopify-app-js#3400: nothing stored, recovered next time).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefreshDeferredError, UnexpectedResponseError } from '../../src/errors.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, emulatorVault, installInto } from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function setup() {
  const { clock, emulator, storage, vault } = emulatorVault();
  const events: NeedsReauthEvent[] = [];
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const installed = await installInto(emulator, vault, SHOP, { expiring: true });
  const refreshes = () =>
    emulator
      .requests()
      .filter((request) => request.grantType === 'refresh_token')
      .map((request) => request.status);
  const row = async () => (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
  return { clock, emulator, storage, vault, events, installed, refreshes, row };
}

describe('the dead refresh token (401 invalid_request "requires an active refresh_token")', () => {
  it('tries the previous refresh token, then marks the shop needs_reauth once; nothing is asked again', async () => {
    const t = await setup();
    t.clock.advance(2 * HOUR);
    await t.vault.token(SHOP); // the row now holds a previous refresh token too
    t.emulator.revokeRefreshTokens(SHOP, APP.clientId);
    t.clock.advance(2 * HOUR);
    const error = await t.vault.token(SHOP).catch((e: unknown) => e);
    assert.equal((error as { code?: string }).code, 'ERR_NEEDS_REAUTH');
    assert.match((error as Error).message, /no longer accepts its refresh token/);
    assert.deepEqual(t.refreshes(), [200, 401, 401], 'the stored token, then the previous one');
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'refresh_token_revoked' }]);
    const row = await t.row();
    assert.equal(row.status, 'needs_reauth');
    assert.equal(row.lastRefreshError, 'refresh_token_revoked');
    // Marked: neither the request path nor the keeper asks Shopify again.
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    const report = await t.vault.keeper({ jitter: false }).runOnce();
    assert.equal(report.scanned, 0);
    assert.deepEqual(t.refreshes(), [200, 401, 401]);
    assert.equal(t.events.length, 1);
  });

  it('an uninstall answers the same body: marked with the same reason', async () => {
    const t = await setup();
    t.emulator.uninstall(SHOP, APP.clientId);
    t.clock.advance(2 * HOUR);
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(t.refreshes(), [401]);
    assert.deepEqual(t.events, [{ shop: SHOP, reason: 'refresh_token_revoked' }]);
  });
});

describe('a 404 from the token endpoint (ambiguous)', () => {
  it('is held 5 minutes, then 10: recorded on the row, reported by the keeper, never marked', async () => {
    const t = await setup();
    t.clock.advance(HOUR - 5 * MINUTE); // 5 minutes of validity left: the keeper renews ahead
    t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 404, times: 2 });
    const keeper = t.vault.keeper({ jitter: false });
    const first = await keeper.runOnce();
    assert.deepEqual([first.scanned, first.refreshed, first.deferred, first.failed], [1, 0, 1, 0]);
    assert.deepEqual(t.refreshes(), [404], 'one request: a 404 is not retried at once');
    let row = await t.row();
    assert.equal(row.status, 'active');
    assert.equal(row.refreshFailures, 1);
    assert.equal(row.lastRefreshError, 'invalid_request (HTTP 404)');

    // In the hold: a token still valid for the caller's margin is served; otherwise a retryable error, no request.
    t.clock.advance(MINUTE);
    const served = await t.vault.token(SHOP, { marginMs: MINUTE });
    assert.equal(served.accessToken, t.installed.accessToken);
    const held = await t.vault.token(SHOP).catch((e: unknown) => e);
    assert.ok(held instanceof RefreshDeferredError);
    assert.equal(held.retryable, true);
    assert.equal(held.retryAt.getTime(), t.clock.now() - MINUTE + 5 * MINUTE);
    assert.equal((await keeper.runOnce()).deferred, 1);
    assert.deepEqual(t.refreshes(), [404]);

    // After 5 minutes one request goes; a second 404 doubles the hold to 10 minutes.
    t.clock.advance(4 * MINUTE);
    await assert.rejects(t.vault.token(SHOP), (error: RefreshDeferredError) => {
      assert.equal(error.retryAt.getTime(), t.clock.now() + 10 * MINUTE);
      return true;
    });
    assert.deepEqual(t.refreshes(), [404, 404]);
    t.clock.advance(10 * MINUTE - 1);
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_REFRESH_DEFERRED' });
    assert.deepEqual(t.refreshes(), [404, 404]);

    // The hold over, Shopify answers again: refreshed, the failures cleared, never marked.
    t.clock.advance(1);
    const token = await t.vault.token(SHOP);
    assert.equal(await adminStatus(t.emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
    assert.deepEqual(t.refreshes(), [404, 404, 200]);
    row = await t.row();
    assert.deepEqual([row.status, row.refreshFailures, row.lastRefreshError], ['active', 0, null]);
    assert.deepEqual(t.events, []);
  });

  it('an undocumented OAuth error (400 invalid_scope) is held the same way', async () => {
    const t = await setup();
    t.clock.advance(2 * HOUR);
    t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 400, error: 'invalid_scope' });
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_REFRESH_DEFERRED' });
    await assert.rejects(t.vault.token(SHOP), { code: 'ERR_REFRESH_DEFERRED' });
    assert.deepEqual(t.refreshes(), [400]);
    assert.equal((await t.row()).lastRefreshError, 'invalid_scope (HTTP 400)');
    assert.deepEqual(t.events, []);
  });
});

describe('a 2xx without the token lifetimes (malformed, shopify-app-js#3400)', () => {
  for (const field of ['expires_in', 'refresh_token_expires_in']) {
    it(`without ${field}: a clear error, nothing stored; the next call recovers the same pair`, async () => {
      const t = await setup();
      t.clock.advance(2 * HOUR);
      const before = await t.row();
      t.emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', omitFields: [field] });
      const error = await t.vault.token(SHOP).catch((e: unknown) => e);
      assert.ok(error instanceof UnexpectedResponseError);
      assert.equal(error.code, 'ERR_UNEXPECTED_RESPONSE');
      assert.equal(error.retryable, true);
      assert.match(error.message, new RegExp(`no ${field}`));
      assert.match(error.message, /nothing was stored/);
      const after = await t.row();
      assert.equal(after.accessToken, before.accessToken, 'the old pair is kept');
      assert.equal(after.refreshToken, before.refreshToken);
      assert.equal(after.expiresAt, before.expiresAt, 'never stored as "never expires"');
      assert.equal(after.status, 'active');
      assert.deepEqual(t.refreshes(), [200], 'Shopify applied the refresh; its answer was unusable');

      // The same stored refresh token again: Shopify answers the pair it issued, now whole.
      const token = await t.vault.token(SHOP);
      assert.deepEqual(t.refreshes(), [200, 200]);
      assert.equal(await adminStatus(t.emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
      const stored = await t.row();
      assert.equal(stored.expiresAt, t.clock.now() + HOUR);
      assert.equal(stored.refreshFailures, 0);
      // And the pair it stored refreshes normally an hour later.
      t.clock.advance(2 * HOUR);
      const later = await t.vault.token(SHOP);
      assert.equal(await adminStatus(t.emulator, SHOP, later.accessToken), ADMIN_QUERY_OK);
      assert.deepEqual(t.events, []);
    });
  }
});
