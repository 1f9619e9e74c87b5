/**
 * The keeper against the emulator's refresh grant (Shopify's rules: 1 h access tokens, 90-day
 * rotating refresh tokens). The emulator's clock is the vault's clock; the keeper's timers run at
 * once. Nothing sleeps.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { openVault, type Vault } from '../../src/vault/vault.ts';

const SHOP = 'cool-shop.myshopify.com';
const APP = {
  clientId: 'keeper-test-client-id',
  clientSecret: 'shpss_keeper_test_secret_0123456789',
  redirectUrls: ['https://app.example/auth/callback'],
};
const ORIGIN = 'http://emulator.test';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The emulator's own clock also runs with real time: allow a second of it between two readings. */
const near = (actual: number, expected: number) => Math.abs(actual - expected) <= 1000;

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  const fetch = ((input: string | URL | Request, init?: RequestInit) =>
    emulator.fetch(new Request(input, init))) as typeof globalThis.fetch;
  const events: NeedsReauthEvent[] = [];
  const storage = createMemoryStorage();
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: { clientId: APP.clientId, clientSecret: APP.clientSecret, baseUrl: `${ORIGIN}/{shop}`, fetch },
    refresh: { sleep: async () => {} },
  });
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const keeper = vault.keeper({ jitter: false, setTimer: (run) => setImmediate(run), clearTimer: () => {} });
  const refreshGrants = () => emulator.grants().filter((grant) => grant.grantType === 'refresh_token').length;
  return { emulator, fetch, events, storage, vault, keeper, refreshGrants };
}

/** Installs the app on `SHOP` (offline, expiring=1) through the emulator and stores the token. */
async function install(emulator: Emulator, vault: Vault, fetch: typeof globalThis.fetch) {
  const userId = emulator.shop(SHOP)?.users[0]?.id;
  assert.ok(userId);
  const form = new URLSearchParams({
    client_id: APP.clientId,
    scope: 'write_products',
    redirect_uri: APP.redirectUrls[0]!,
    state: 'state-nonce-123',
    'grant_options[]': '',
    user_id: userId,
    action: 'install',
  });
  const consent = await fetch(`${ORIGIN}/${SHOP}/admin/oauth/authorize`, { method: 'POST', body: form });
  assert.equal(consent.status, 302);
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const endpoint = { baseUrl: `${ORIGIN}/{shop}`, shop: SHOP, ...APP, fetch };
  const token = await exchangeAuthorizationCode(endpoint, { code, expiring: true });
  assert.ok(token.kind === 'offline' && token.refreshToken && token.expiresIn && token.refreshTokenExpiresIn);
  const now = emulator.clock.now();
  return vault.saveOffline({
    shop: SHOP,
    accessToken: token.accessToken,
    scopes: token.scopes,
    expiresAt: new Date(now + token.expiresIn * 1000),
    refreshToken: token.refreshToken,
    refreshTokenExpiresAt: new Date(now + token.refreshTokenExpiresIn * 1000),
  });
}

/** The HTTP status of an Admin API query made with `accessToken`. */
async function adminStatus(fetch: typeof globalThis.fetch, accessToken: string): Promise<number> {
  const response = await fetch(`${ORIGIN}/${SHOP}/admin/api/2026-07/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': accessToken },
    body: JSON.stringify({ query: '{ shop { name } }' }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('keeper through the emulator', () => {
  it('90-day refresh-token lapse prevented by the keeper for an idle shop', async () => {
    const { emulator, fetch, events, vault, keeper, refreshGrants } = setup();
    const installed = await install(emulator, vault, fetch);
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
    assert.equal(await adminStatus(fetch, token.accessToken), 200);
    assert.equal(refreshGrants(), 2);
    assert.deepEqual(events, []);
  });

  it('without the keeper the same idle shop lapses (the control)', async () => {
    const { emulator, fetch, events, vault } = setup();
    const installed = await install(emulator, vault, fetch);
    emulator.clock.set(installed.refreshTokenExpiresAt!.getTime() + DAY);
    await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(events, [{ shop: SHOP, reason: 'refresh_token_expired' }]);
  });

  it('renews an access token ahead of expiry, so the request path makes no grant', async () => {
    const { emulator, fetch, vault, keeper, refreshGrants } = setup();
    const installed = await install(emulator, vault, fetch);
    emulator.clock.advance(55 * MINUTE);
    assert.equal((await keeper.runOnce()).refreshed, 1);
    assert.equal(refreshGrants(), 1);
    // At 58 minutes the installed token is within the 5-minute margin; the renewed one is not.
    emulator.clock.advance(3 * MINUTE);
    const token = await vault.token(SHOP);
    assert.equal(refreshGrants(), 1);
    assert.notEqual(token.accessToken, installed.accessToken);
    assert.equal(await adminStatus(fetch, token.accessToken), 200);
  });
});
