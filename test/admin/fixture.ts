/**
 * Shared setup for the Admin client tests: an emulator and a vault on one frozen clock (moved only by
 * the tests and by the injected sleep), tokens obtained through the emulator's real install flow.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AdminOptions, createAdmin } from '../../src/admin/admin.ts';
import { createEmulator, type Emulator, type EmulatorThrottle } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';

export const SHOP = 'cool-shop.myshopify.com';
export const APP = {
  clientId: 'admin-test-client-id',
  clientSecret: 'shpss_admin_test_secret_0123456789',
  redirectUrls: ['https://app.example/auth/callback'],
};
export const ORIGIN = 'http://emulator.test';
export const BASE_URL = `${ORIGIN}/{shop}`;
export const HOUR = 3_600_000;

export function inProcessFetch(emulator: Emulator): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    emulator.fetch(new Request(input, init))) as typeof fetch;
}

/** A frozen clock, moved only by `advance`. */
export function frozenClock() {
  let now = Date.UTC(2026, 9, 1, 12, 0, 0);
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

export interface SetupOptions {
  throttle?: EmulatorThrottle;
  admin?: AdminOptions;
  /** A listening emulator (built on `clock`), its base URL and a real fetch; in-process by default. */
  socket?: { emulator: Emulator; clock: ReturnType<typeof frozenClock>; baseUrl: string; fetch: typeof fetch };
}

/** An emulator, a vault and an Admin factory sharing one clock; `sleeps` records every throttle wait. */
export function setup(options: SetupOptions = {}) {
  const clock = options.socket?.clock ?? frozenClock();
  const emulator =
    options.socket?.emulator ??
    createEmulator({ apps: [APP], now: clock.now, ...(options.throttle ? { throttle: options.throttle } : {}) });
  const storage = createMemoryStorage();
  const fetch = options.socket?.fetch ?? inProcessFetch(emulator);
  const baseUrl = options.socket?.baseUrl ?? BASE_URL;
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: clock.now,
    shopify: { clientId: APP.clientId, clientSecret: APP.clientSecret, baseUrl, fetch },
    refresh: { sleep: async () => {} },
  });
  const events: NeedsReauthEvent[] = [];
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  const sleeps: number[] = [];
  const admin = createAdmin(vault, {
    shopifyBaseUrl: baseUrl,
    fetch,
    now: clock.now,
    random: () => 0,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...options.admin,
  });
  return { emulator, storage, vault, admin, events, sleeps, clock };
}

type Fixture = ReturnType<typeof setup>;

/** Submits the consent form as `firstName` and exchanges the code. */
async function authorize(t: Fixture, firstName: string, perUser: boolean, expiring: boolean) {
  const user = t.emulator.shop(SHOP)?.users.find((candidate) => candidate.firstName === firstName);
  assert.ok(user, `user ${firstName} exists`);
  const form = new URLSearchParams({
    client_id: APP.clientId,
    scope: 'write_products,read_orders',
    redirect_uri: APP.redirectUrls[0]!,
    state: 'state-nonce-123',
    'grant_options[]': perUser ? 'per-user' : '',
    user_id: user.id,
    action: perUser ? 'login' : 'install',
  });
  const consent = await t.emulator.fetch(
    new Request(`${ORIGIN}/${SHOP}/admin/oauth/authorize`, { method: 'POST', body: form }),
  );
  assert.equal(consent.status, 302);
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const endpoint = { baseUrl: BASE_URL, shop: SHOP, ...APP, fetch: inProcessFetch(t.emulator) };
  return exchangeAuthorizationCode(endpoint, { code, expiring });
}

/**
 * Installs the app offline and stores the token. `expiresInMs` overrides the expiry the vault is
 * told (to make the vault believe a token Shopify considers expired is still valid).
 */
export async function installOffline(t: Fixture, options: { expiring?: boolean; expiresInMs?: number } = {}) {
  const expiring = options.expiring ?? true;
  const token = await authorize(t, 'Olivia', false, expiring);
  assert.ok(token.kind === 'offline');
  const now = t.clock.now();
  const expiresIn = options.expiresInMs ?? (token.expiresIn === null ? null : token.expiresIn * 1000);
  return t.vault.saveOffline({
    shop: SHOP,
    accessToken: token.accessToken,
    scopes: token.scopes,
    expiresAt: expiresIn === null ? null : new Date(now + expiresIn),
    refreshToken: token.refreshToken,
    refreshTokenExpiresAt:
      token.refreshTokenExpiresIn === null ? null : new Date(now + token.refreshTokenExpiresIn * 1000),
  });
}

/** Signs `firstName` in (per-user) and stores the online token; returns the user id. */
export async function signIn(t: Fixture, firstName: string): Promise<string> {
  const token = await authorize(t, firstName, true, false);
  assert.ok(token.kind === 'online');
  await t.vault.saveOnline({
    shop: SHOP,
    accessToken: token.accessToken,
    scopes: token.scopes,
    associatedUserScopes: token.associatedUserScopes,
    expiresAt: new Date(t.clock.now() + token.expiresIn * 1000),
    user: token.associatedUser,
  });
  return token.associatedUser.id;
}

/** Statuses of the Admin GraphQL requests the emulator answered, in order. */
export const graphqlStatuses = (emulator: Emulator) =>
  emulator
    .requests()
    .filter((request) => request.endpoint === 'graphql')
    .map((request) => request.status);

export const refreshGrants = (emulator: Emulator) =>
  emulator.grants().filter((grant) => grant.grantType === 'refresh_token');
