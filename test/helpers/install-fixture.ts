/**
 * The whole install in one process: the emulator (in-process), a real vault on memory storage,
 * shoptoken, a tiny app behind it, and a test browser — all on one controllable clock.
 */

import { randomBytes } from 'node:crypto';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { AfterAuthContext, AfterLoginContext, Shoptoken, ShoptokenOptions } from '../../src/auth/types.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/types.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openVault, type Vault } from '../../src/vault/vault.ts';
import { Browser, type Fetcher, type Page } from './browser.ts';

export const API_KEY = 'shoptoken-test-client';
export const API_SECRET = 'shoptoken-test-secret-0123456789abcdef';
export const APP_URL = 'https://app.example.com';
export const EMULATOR_ORIGIN = 'http://emulator.test';
export const SCOPES = ['write_products', 'read_orders', 'read_customers'];

/** A clock tests move by hand. */
export interface Clock {
  now(): number;
  advance(ms: number): void;
}

export function createClock(start = Date.parse('2026-11-22T10:00:00Z')): Clock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** shoptoken's fetch, served by the emulator in-process. */
export function emulatorFetch(emulator: Emulator): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => emulator.fetch(new Request(input, init))) as typeof fetch;
}

/** The app: shoptoken's routes, then every other path is a protected page answering the session as JSON. */
export function appFetcher(shoptoken: Shoptoken): Fetcher {
  return async (request) => {
    const handled = await shoptoken.handle(request);
    if (handled) return handled;
    const result = await shoptoken.requireSession(request);
    if (result instanceof Response) return result;
    return Response.json({ shop: result.shop, userId: result.userId, hasOffline: result.offline !== null });
  };
}

export interface InstallFixture {
  clock: Clock;
  emulator: Emulator;
  vault: Vault;
  shoptoken: Shoptoken;
  browser: Browser;
  afterAuth: AfterAuthContext[];
  afterLogin: AfterLoginContext[];
  /** A fresh browser (empty jar) on the same servers. */
  newBrowser(now?: () => number): Browser;
  /** The emulator's user of `shop` whose first name is `firstName`. */
  userId(shop: string, firstName: string): string;
  /** Opens `/auth?shop=` and, on the consent page, installs as `firstName`. */
  install(shop: string, firstName?: string, browser?: Browser): Promise<Page>;
}

export function createInstallFixture(overrides: Partial<ShoptokenOptions> = {}): InstallFixture {
  const clock = createClock();
  const emulator = createEmulator({
    apps: [
      { clientId: API_KEY, clientSecret: API_SECRET, redirectUrls: [`${APP_URL}/auth/callback`], name: 'Test app' },
    ],
    now: clock.now,
  });
  const vault = openVault({
    storage: createMemoryStorage(),
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: clock.now,
  });
  const afterAuth: AfterAuthContext[] = [];
  const afterLogin: AfterLoginContext[] = [];
  const shoptoken = createShoptoken({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    scopes: SCOPES,
    appUrl: APP_URL,
    vault,
    shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
    fetch: emulatorFetch(emulator),
    now: clock.now,
    afterAuth: (ctx) => void afterAuth.push(ctx),
    afterLogin: (ctx) => void afterLogin.push(ctx),
    ...overrides,
  });
  const newBrowser = (now?: () => number) =>
    new Browser({ origins: { [APP_URL]: appFetcher(shoptoken), [EMULATOR_ORIGIN]: emulator.fetch }, now });
  const browser = newBrowser();
  const userId = (shop: string, firstName: string) => {
    const user = emulator.shop(shop)?.users.find((u) => u.firstName === firstName);
    if (!user) throw new Error(`no user ${firstName} in ${shop}`);
    return user.id;
  };
  return {
    clock,
    emulator,
    vault,
    shoptoken,
    browser,
    afterAuth,
    afterLogin,
    newBrowser,
    userId,
    async install(shop, firstName = 'Olivia', b = browser) {
      const consent = await b.navigate(`${APP_URL}/auth?shop=${shop}`);
      if (consent.status !== 200) throw new Error(`expected the consent page, got ${consent.status} at ${consent.url}`);
      return b.submit(consent, { name: 'action', value: 'install' }, { user_id: userId(shop, firstName) });
    },
  };
}
