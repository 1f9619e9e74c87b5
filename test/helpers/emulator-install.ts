/**
 * Installs the app on emulator shops and stores the tokens in a vault, for the vault and CLI tests
 * that need real tokens the emulator's Admin API accepts.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault, type Vault, type VaultOptions } from '../../src/open-vault.ts';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';

export const ORIGIN = 'http://emulator.test';
export const APP = {
  clientId: 'install-test-client-id',
  clientSecret: 'shpss_install_test_secret_0123456789',
  redirectUrls: ['https://app.example/auth/callback'],
};

/** The status of a successful Admin API query. */
export const ADMIN_QUERY_OK = 200;

/** The emulator served in-process, as a fetch. */
export function inProcessFetch(emulator: Emulator): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    emulator.fetch(new Request(input, init))) as typeof fetch;
}

/**
 * A vault that reaches the emulator in-process as the app {@link APP}, on the emulator's clock,
 * with memory storage, a fresh key and retries that do not sleep; `overrides` replace any of these.
 */
export function openEmulatorVault(emulator: Emulator, overrides: Partial<VaultOptions> = {}): Vault {
  return openVault({
    storage: createMemoryStorage(),
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: { ...APP, baseUrl: `${ORIGIN}/{shop}`, fetch: inProcessFetch(emulator) },
    refresh: { sleep: async () => {} },
    ...overrides,
  });
}

/** A clock tests move by hand, starting at a fixed instant. */
export function frozenClock(start = Date.UTC(2026, 9, 1, 12)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** The emulator with {@link APP}, a memory storage and a vault over it (see {@link openEmulatorVault}), on one frozen clock. */
export function emulatorVault() {
  const clock = frozenClock();
  const emulator = createEmulator({ apps: [APP], now: clock.now });
  const storage = createMemoryStorage();
  const vault = openEmulatorVault(emulator, { storage, now: clock.now });
  return { clock, emulator, storage, vault };
}

/** Installs the app offline on `shop` (non-expiring unless `expiring`) and returns the token response. */
export async function installOffline(emulator: Emulator, shop: string, options: { expiring?: boolean } = {}) {
  const userId = emulator.shop(shop)?.users[0]?.id;
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
  const consent = await emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/oauth/authorize`, { method: 'POST', body: form }),
  );
  assert.equal(consent.status, 302);
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const endpoint = { baseUrl: `${ORIGIN}/{shop}`, shop, ...APP, fetch: inProcessFetch(emulator) };
  const token = await exchangeAuthorizationCode(endpoint, { code, expiring: options.expiring === true });
  assert.ok(token.kind === 'offline');
  return token;
}

/** Installs the app on `shop` and stores its offline token in `vault`. */
export async function installInto(
  emulator: Emulator,
  vault: Vault,
  shop: string,
  options: { expiring?: boolean } = {},
) {
  const token = await installOffline(emulator, shop, options);
  const now = emulator.clock.now();
  const expiring = token.refreshToken !== null && token.expiresIn !== null && token.refreshTokenExpiresIn !== null;
  return vault.saveOffline({
    shop,
    accessToken: token.accessToken,
    scopes: token.scopes,
    expiresAt: expiring ? new Date(now + token.expiresIn! * 1000) : null,
    refreshToken: expiring ? token.refreshToken : null,
    refreshTokenExpiresAt: expiring ? new Date(now + token.refreshTokenExpiresIn! * 1000) : null,
  });
}

/** The HTTP status of an Admin API query made with `accessToken` on `shop`. */
export async function adminStatus(emulator: Emulator, shop: string, accessToken: string): Promise<number> {
  const response = await emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/api/2026-07/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': accessToken },
      body: JSON.stringify({ query: '{ shop { name } }' }),
    }),
  );
  await response.arrayBuffer();
  return response.status;
}
