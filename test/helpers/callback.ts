/**
 * Building blocks for callback tests without the emulator: a fake token endpoint, the start of a
 * leg (its state and state cookie), and callbacks signed exactly as Shopify signs them.
 */

import { randomBytes } from 'node:crypto';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { Shoptoken, ShoptokenOptions } from '../../src/auth/types.ts';
import { signQuery } from '../../src/protocol/hmac.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openVault, type Vault } from '../../src/vault/vault.ts';
import { API_KEY, API_SECRET, APP_URL, type Clock, createClock } from './install-fixture.ts';

export const HOST = Buffer.from('admin.shopify.com/store/cool-shop').toString('base64').replace(/=+$/, '');
export const USER_ID = '902541635';

/** A token endpoint response body, chosen by the code: codes starting `online` get an online token. */
export type TokenBodyFor = (code: string, shop: string) => { status?: number; body: unknown };

export function offlineBody(scope = 'write_products,read_orders'): Record<string, unknown> {
  return {
    access_token: `shpat_${randomBytes(16).toString('hex')}`,
    scope,
    expires_in: 3600,
    refresh_token: `shprt_${randomBytes(16).toString('hex')}`,
    refresh_token_expires_in: 7_776_000,
  };
}

export function onlineBody(scope = 'write_products,read_orders', userScope = scope): Record<string, unknown> {
  return {
    access_token: `shpua_${randomBytes(16).toString('hex')}`,
    scope,
    expires_in: 86_399,
    associated_user_scope: userScope,
    associated_user: {
      id: Number(USER_ID),
      first_name: 'John',
      last_name: 'Smith',
      email: 'john@example.com',
      email_verified: true,
      account_owner: true,
      locale: 'en',
      collaborator: false,
    },
  };
}

const defaultBodies: TokenBodyFor = (code) => ({ body: code.startsWith('online') ? onlineBody() : offlineBody() });

/** One request seen by the fake token endpoint. */
export interface TokenCall {
  url: string;
  body: Record<string, unknown>;
}

export interface CallbackFixture {
  clock: Clock;
  vault: Vault;
  shoptoken: Shoptoken;
  calls: TokenCall[];
  /** Every token response the fake endpoint sent (to check that no value leaks). */
  issued: string[];
  /** Starts the flow for `shop`: the state, the `name=value` state cookie, the redirect. */
  begin(shop: string, st?: Shoptoken): Promise<{ state: string; cookie: string; location: URL; setCookie: string }>;
  /** A callback URL with `params` signed by `secret` (default the app's). */
  callbackUrl(params: Record<string, string>, secret?: string): string;
  /** The query Shopify sends for `state`, `shop` and `code` at the fixture's current time. */
  params(shop: string, state: string, code: string, extra?: Record<string, string>): Record<string, string>;
  /** GET the callback with an optional Cookie header. */
  callback(url: string, cookie?: string | null, st?: Shoptoken): Promise<Response>;
}

export function createCallbackFixture(
  overrides: Partial<ShoptokenOptions> = {},
  bodies: TokenBodyFor = defaultBodies,
): CallbackFixture {
  const clock = createClock();
  const vault = openVault({
    storage: createMemoryStorage(),
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: clock.now,
  });
  const calls: TokenCall[] = [];
  const issued: string[] = [];
  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = (await request.json()) as Record<string, unknown>;
    calls.push({ url: request.url, body });
    const shop = new URL(request.url).hostname;
    const answer = bodies(String(body.code), shop);
    const text = JSON.stringify(answer.body);
    issued.push(text);
    return new Response(text, { status: answer.status ?? 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const shoptoken = createShoptoken({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    scopes: 'write_products,read_orders',
    appUrl: APP_URL,
    vault,
    fetch: fakeFetch,
    now: clock.now,
    ...overrides,
  });
  return {
    clock,
    vault,
    shoptoken,
    calls,
    issued,
    async begin(shop, st = shoptoken) {
      const response = await st.handle(new Request(`${APP_URL}/auth?shop=${shop}`));
      const setCookie = response?.headers.getSetCookie()[0];
      const location = response?.headers.get('location');
      if (response?.status !== 302 || !setCookie || !location) throw new Error('the flow did not start');
      const url = new URL(location);
      return { state: url.searchParams.get('state')!, cookie: setCookie.split(';')[0]!, location: url, setCookie };
    },
    callbackUrl(params, secret = API_SECRET) {
      const query = new URLSearchParams(params);
      query.set('hmac', signQuery(query, secret));
      return `${APP_URL}/auth/callback?${query}`;
    },
    params(shop, state, code, extra = {}) {
      return { code, host: HOST, shop, state, timestamp: String(Math.floor(clock.now() / 1000)), ...extra };
    },
    async callback(url, cookie, st = shoptoken) {
      const headers = cookie ? { cookie } : undefined;
      const response = await st.handle(new Request(url, { headers }));
      if (!response) throw new Error('the callback path was not handled');
      return response;
    },
  };
}
