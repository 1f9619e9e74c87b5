/**
 * The token store down during the flow: each step answers 503 with Retry-After (nothing the browser
 * did was wrong), never a 500 or an unhandled rejection, and the flow works again once it is back.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import { ShoptokenError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { Browser } from '../helpers/browser.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  appFetcher,
  createClock,
  EMULATOR_ORIGIN,
  emulatorFetch,
  isCallback,
  SCOPES,
} from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';

/** A memory store whose every call fails with ERR_STORAGE while `down` is set. */
function flakyStorage() {
  const inner = createMemoryStorage();
  const state = { down: false };
  const fail = () => {
    throw new ShoptokenError('ERR_STORAGE', 'the store is unreachable', { retryable: true });
  };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (state.down) fail();
      return fn(...args);
    };
  const storage: TokenStorage = {
    ...inner,
    get: guard(inner.get.bind(inner)),
    put: guard(inner.put.bind(inner)),
    swap: guard(inner.swap.bind(inner)),
    list: guard(inner.list.bind(inner)),
    leases: {
      acquire: guard(inner.leases.acquire.bind(inner.leases)),
      extend: guard(inner.leases.extend.bind(inner.leases)),
      release: guard(inner.leases.release.bind(inner.leases)),
    },
    states: {
      save: guard(inner.states.save.bind(inner.states)),
      take: guard(inner.states.take.bind(inner.states)),
    },
  };
  return { storage, state };
}

describe('the token store unavailable during the install flow', () => {
  it('answers 503 with Retry-After at each step, and the flow completes once the store is back', async () => {
    const clock = createClock();
    const emulator = createEmulator({
      apps: [{ clientId: API_KEY, clientSecret: API_SECRET, redirectUrls: [`${APP_URL}/auth/callback`] }],
      now: clock.now,
    });
    const { storage, state } = flakyStorage();
    const shoptoken = createShoptoken({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      scopes: SCOPES,
      appUrl: APP_URL,
      vault: openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], now: clock.now }),
      shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
      fetch: emulatorFetch(emulator),
      now: clock.now,
    });
    const toApp = appFetcher(shoptoken);
    // The store goes down just before each callback reaches the app.
    let failCallbacks = true;
    const app = async (request: Request) => {
      if (failCallbacks && isCallback(new URL(request.url))) state.down = true;
      try {
        return await toApp(request);
      } finally {
        state.down = false;
      }
    };
    const browser = new Browser({ origins: { [APP_URL]: app, [EMULATOR_ORIGIN]: emulator.fetch }, now: clock.now });

    state.down = true;
    const begin = await shoptoken.handle(new Request(`${APP_URL}/auth?shop=${SHOP}`));
    state.down = false;
    assert.equal(begin?.status, 503);
    assert.equal(begin?.headers.get('retry-after'), '5');
    assert.match(await begin!.text(), /token store is unavailable/);

    const consent = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    const olivia = emulator.shop(SHOP)?.users[0]?.id ?? '';
    const refused = await browser.submit(consent, { name: 'action', value: 'install' }, { user_id: olivia });
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(state.down, false);

    failCallbacks = false;
    // Shopify granted the app already: the emulator signs Olivia in without a consent page.
    const landed = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(landed.status, 200, landed.body);
    assert.deepEqual(JSON.parse(landed.body), { shop: SHOP, userId: olivia, hasOffline: true });
  });
});
