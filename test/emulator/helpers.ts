/** Shared setup for the emulator tests: a frozen clock, one app, and the install steps. */

import assert from 'node:assert/strict';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';

export const ORIGIN = 'http://emulator.test';
export const SHOP = 'cool-shop.myshopify.com';
export const APP = {
  clientId: 'test-client-id',
  clientSecret: 'shpss_test_secret_0123456789abcdef',
  redirectUrls: ['https://app.example/auth/callback'],
  name: 'Test App',
};
export const APP_SCOPES = 'write_products,read_orders,read_customers';
/** Shopify's observed answer to a dead refresh token (reference §3.2), with HTTP 401. */
export const DEAD = { error: 'invalid_request', error_description: 'This request requires an active refresh_token' };

export interface TestEmulator {
  emulator: Emulator;
  /** Moves the emulator's clock forward. */
  advance(ms: number): void;
  now(): number;
}

export function setup(options: Partial<EmulatorOptions> = {}): TestEmulator {
  let now = Date.UTC(2026, 9, 1, 12, 0, 0);
  const emulator = createEmulator({ apps: [APP], now: () => now, ...options });
  return { emulator, advance: (ms) => (now += ms), now: () => now };
}

export function authorizeParams(overrides: Record<string, string | null> = {}): URLSearchParams {
  const params = new URLSearchParams({
    client_id: APP.clientId,
    scope: APP_SCOPES,
    redirect_uri: APP.redirectUrls[0]!,
    state: 'state-nonce-123',
    'grant_options[]': '',
  });
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) params.delete(key);
    else params.set(key, value);
  }
  return params;
}

export function get(emulator: Emulator, path: string, cookie?: string): Promise<Response> {
  return emulator.fetch(new Request(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {} }));
}

export function postForm(
  emulator: Emulator,
  path: string,
  form: URLSearchParams,
  headers: Record<string, string> = {},
): Promise<Response> {
  return emulator.fetch(new Request(`${ORIGIN}${path}`, { method: 'POST', body: form, headers }));
}

export const authorizePath = (shop = SHOP) => `/${shop}/admin/oauth/authorize`;

/** The `name=value` pair of the response's session cookie. */
export function cookieOf(response: Response): string {
  const header = response.headers.get('set-cookie');
  assert.ok(header, 'a session cookie is set');
  return header.split(';')[0]!;
}

export function userId(emulator: Emulator, firstName: string, shop = SHOP): string {
  const user = emulator.shop(shop)?.users.find((candidate) => candidate.firstName === firstName);
  assert.ok(user, `user ${firstName} exists`);
  return user.id;
}

/** Submits the consent form as `firstName`; returns the redirect and the session cookie. */
export async function install(
  emulator: Emulator,
  options: { firstName?: string; shop?: string; params?: URLSearchParams; action?: string } = {},
): Promise<{ location: URL; cookie: string; code: string }> {
  const shop = options.shop ?? SHOP;
  const form = new URLSearchParams(options.params ?? authorizeParams());
  form.set('user_id', userId(emulator, options.firstName ?? 'Olivia', shop));
  form.set('action', options.action ?? 'install');
  const response = await postForm(emulator, authorizePath(shop), form);
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get('location')!);
  return { location, cookie: cookieOf(response), code: location.searchParams.get('code')! };
}

/** POSTs to the token endpoint as JSON (default) or as a form. */
export function tokenRequest(
  emulator: Emulator,
  body: Record<string, unknown>,
  options: { shop?: string; form?: boolean } = {},
): Promise<Response> {
  const form = options.form === true;
  return emulator.fetch(
    new Request(`${ORIGIN}/${options.shop ?? SHOP}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
      body: form ? new URLSearchParams(body as Record<string, string>) : JSON.stringify(body),
    }),
  );
}

export async function exchange(
  emulator: Emulator,
  code: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const response = await tokenRequest(emulator, {
    client_id: APP.clientId,
    client_secret: APP.clientSecret,
    code,
    ...extra,
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

export function graphql(
  emulator: Emulator,
  token: string | null,
  query: string,
  options: { shop?: string; version?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['x-shopify-access-token'] = token;
  return emulator.fetch(
    new Request(`${ORIGIN}/${options.shop ?? SHOP}/admin/api/${options.version ?? '2026-10'}/graphql.json`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query }),
    }),
  );
}

/** The app's client id and secret, as every grant sends them. */
export const CREDENTIALS = { client_id: APP.clientId, client_secret: APP.clientSecret };

/** An expiring offline token pair, as answered. */
export interface Pair {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  scope: string;
}

/** Installs the app offline and exchanges the code for an expiring pair. */
export async function installExpiring(emulator: Emulator, shop = SHOP): Promise<Pair> {
  const { code } = await install(emulator, { shop });
  const response = await tokenRequest(emulator, { ...CREDENTIALS, code, expiring: '1' }, { shop });
  assert.equal(response.status, 200);
  return (await response.json()) as Pair;
}

/** A refresh request; returns the status and body. */
export async function refresh(
  emulator: Emulator,
  refreshToken: string,
  options: { form?: boolean; secret?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await tokenRequest(
    emulator,
    {
      client_id: APP.clientId,
      client_secret: options.secret ?? APP.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    },
    { form: options.form === true },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** POSTs JSON to one of the emulator's `/_emulator/*` endpoints. */
export function control(emulator: Emulator, path: string, body: unknown, method = 'POST'): Promise<Response> {
  return emulator.fetch(
    new Request(`${ORIGIN}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    }),
  );
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
