/**
 * The keeper against the emulator's refresh grant (Shopify's rules: 1 h access tokens, 90-day
 * rotating refresh tokens). The emulator's clock is the vault's clock; the keeper's timers run at
 * once. Nothing sleeps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import type { Vault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { APP, adminStatus, installInto, openEmulatorVault } from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The emulator's own clock also runs with real time: allow a second of it between two readings. */
const near = (actual: number, expected: number) => Math.abs(actual - expected) <= 1000;

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  const events: NeedsReauthEvent[] = [];
  const storage = createMemoryStorage();
  const vault = openEmulatorVault(emulator, { storage });
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const keeper = vault.keeper({ jitter: false, setTimer: (run) => setImmediate(run), clearTimer: () => {} });
  const refreshGrants = () => emulator.grants().filter((grant) => grant.grantType === 'refresh_token').length;
  return { emulator, events, storage, vault, keeper, refreshGrants };
}

/** Installs the app on `SHOP` (offline, expiring=1) through the emulator and stores the token. */
const install = (emulator: Emulator, vault: Vault) => installInto(emulator, vault, SHOP, { expiring: true });

describe('keeper through the emulator', () => {
  it('90-day refresh-token lapse prevented by the keeper for an idle shop', async () => {
    const { emulator, events, vault, keeper, refreshGrants } = setup();
    const installed = await install(emulator, vault);
    const originalLapse = installed.refreshTokenExpiresAt!.getTime();
    assert.ok(near(originalLapse, emulator.clock.now() + 90 * DAY));
    // 85 idle days: no token() call at all.
    emulator.clock.advance(85 * DAY);
    const report = await keeper.runOnce();
    assert.deepEqual([report.scanned, report.refreshed, report.failed, report.needsReauth], [1, 1, 0, 0]);
    assert.equal(refreshGrants(), 1);
    const [meta] = await vault.list();
    const renewedLapse = meta?.refreshTokenExpiresAt?.getTime() ?? 0;
    assert.ok(near(renewedLapse, emulator.clock.now() + 90 * DAY), `renewed lapse ${renewedLapse}`);
    // Past the original 90 days the shop still works: token() refreshes with the renewed refresh token.
    emulator.clock.set(originalLapse + DAY);
    const token = await vault.token(SHOP);
    assert.equal(await adminStatus(emulator, SHOP, token.accessToken), 200);
    assert.equal(refreshGrants(), 2);
    assert.deepEqual(events, []);
  });

  it('without the keeper the same idle shop lapses (the control)', async () => {
    const { emulator, events, vault } = setup();
    const installed = await install(emulator, vault);
    emulator.clock.set(installed.refreshTokenExpiresAt!.getTime() + DAY);
    await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(events, [{ shop: SHOP, reason: 'refresh_token_expired' }]);
  });

  it('renews an access token ahead of expiry, so the request path makes no grant', async () => {
    const { emulator, vault, keeper, refreshGrants } = setup();
    const installed = await install(emulator, vault);
    emulator.clock.advance(55 * MINUTE);
    assert.equal((await keeper.runOnce()).refreshed, 1);
    assert.equal(refreshGrants(), 1);
    // At 58 minutes the installed token is within the 5-minute margin; the renewed one is not.
    emulator.clock.advance(3 * MINUTE);
    const token = await vault.token(SHOP);
    assert.equal(refreshGrants(), 1);
    assert.notEqual(token.accessToken, installed.accessToken);
    assert.equal(await adminStatus(emulator, SHOP, token.accessToken), 200);
  });
});
