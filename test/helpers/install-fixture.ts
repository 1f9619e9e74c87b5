/**
 * The whole install in one process: the emulator (in-process), a real vault on memory storage,
 * shoptoken, a tiny app behind it, and a test browser — all on one controllable clock.
 */

import { randomBytes } from 'node:crypto';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { AfterAuthContext, AfterLoginContext, Shoptoken, ShoptokenOptions } from '../../src/auth/types.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/types.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
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

/** shoptoken's fetch, served by the emulator in-process; every response body is also passed to `seen`. */
export function emulatorFetch(emulator: Emulator, seen?: (body: string) => void): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await emulator.fetch(new Request(input, init));
    seen?.(await response.clone().text());
    return response;
  }) as typeof fetch;
}

/** True for the app's callback URL: where a test stops the browser to look at Shopify's redirect back. */
export const isCallback = (url: URL): boolean => url.origin === APP_URL && url.pathname === '/auth/callback';

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
  /** Every body the token endpoint answered shoptoken (to check that no value leaks). */
  tokenResponses: string[];
  /** Another shoptoken on the same emulator, vault, clock and hooks, with `overrides` (e.g. a redeployed app). */
  create(overrides: Partial<ShoptokenOptions>): Shoptoken;
  /** A fresh browser (empty jar) on the same servers; the app served by `shoptoken` (default the fixture's). */
  newBrowser(now?: () => number, shoptoken?: Shoptoken): Browser;
  /** The emulator's user of `shop` whose first name is `firstName`. */
  userId(shop: string, firstName: string): string;
  /** Opens `/auth?shop=` and, on the consent page, installs as `firstName`. */
  install(shop: string, firstName?: string, browser?: Browser): Promise<Page>;
  /**
   * Opens `/auth?shop=`, installs as `firstName` on the consent page, and stops at Shopify's redirect
   * back: the real, emulator-signed callback URL of the offline leg, not yet requested.
   */
  callbackOfInstall(shop: string, firstName?: string, browser?: Browser): Promise<URL>;
}

/** How the emulator side of the fixture is set up. */
export interface InstallFixtureSetup {
  /** The app's client secret as the emulator knows it; default {@link API_SECRET}. */
  emulatorSecret?: string;
}

export function createInstallFixture(
  overrides: Partial<ShoptokenOptions> = {},
  setup: InstallFixtureSetup = {},
): InstallFixture {
  const clock = createClock();
  const emulator = createEmulator({
    apps: [
      {
        clientId: API_KEY,
        clientSecret: setup.emulatorSecret ?? API_SECRET,
        redirectUrls: [`${APP_URL}/auth/callback`],
        name: 'Test app',
      },
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
  const tokenResponses: string[] = [];
  const create = (extra: Partial<ShoptokenOptions>) =>
    createShoptoken({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      scopes: SCOPES,
      appUrl: APP_URL,
      vault,
      shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
      fetch: emulatorFetch(emulator, (body) => void tokenResponses.push(body)),
      now: clock.now,
      afterAuth: (ctx) => void afterAuth.push(ctx),
      afterLogin: (ctx) => void afterLogin.push(ctx),
      ...extra,
    });
  const shoptoken = create(overrides);
  const newBrowser = (now?: () => number, st = shoptoken) =>
    new Browser({ origins: { [APP_URL]: appFetcher(st), [EMULATOR_ORIGIN]: emulator.fetch }, now });
  const browser = newBrowser();
  const userId = (shop: string, firstName: string) => {
    const user = emulator.shop(shop)?.users.find((u) => u.firstName === firstName);
    if (!user) throw new Error(`no user ${firstName} in ${shop}`);
    return user.id;
  };
  const consent = async (shop: string, b: Browser) => {
    const page = await b.navigate(`${APP_URL}/auth?shop=${shop}`);
    if (page.status !== 200) throw new Error(`expected the consent page, got ${page.status} at ${page.url}`);
    return page;
  };
  const install = { name: 'action', value: 'install' };
  return {
    clock,
    emulator,
    vault,
    shoptoken,
    browser,
    afterAuth,
    afterLogin,
    tokenResponses,
    create,
    newBrowser,
    userId,
    async install(shop, firstName = 'Olivia', b = browser) {
      return b.submit(await consent(shop, b), install, { user_id: userId(shop, firstName) });
    },
    async callbackOfInstall(shop, firstName = 'Olivia', b = browser) {
      const page = await b.submit(
        await consent(shop, b),
        install,
        { user_id: userId(shop, firstName) },
        { stopBefore: isCallback },
      );
      const location = page.headers.get('location');
      if (page.status !== 302 || location === null) throw new Error(`no redirect back to the app from ${page.url}`);
      return new URL(location);
    },
  };
}
