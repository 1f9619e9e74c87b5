/**
 * Two browsers finishing the install of one new shop at once (issue 7 §1, §5), with a slow
 * `afterAuth`: on one instance (two callbacks into one `createShoptoken`) and on two instances
 * sharing PostgreSQL (two `createShoptoken`s, two vaults over one `postgres://` store) — `afterAuth`
 * runs once and the other browser's callback calls `afterLogin`. A claimant that dies — its
 * `afterAuth` throws, or its process is killed during `afterAuth` — leaves the install incomplete,
 * and the next sign-in completes it (`afterAuth` once more, then marked).
 *
 * Both browsers run the whole flow against the emulator in-process (test/helpers/browser.ts), and
 * are stopped just before the per-user callback, so the two callbacks that complete the install
 * really run at the same time.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { AfterAuthContext, AfterLoginContext, Shoptoken } from '../../src/auth/types.ts';
import { openConfiguredStorage } from '../../src/config/database.ts';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  appFetcher,
  createInstallFixture,
  EMULATOR_ORIGIN,
  emulatorFetch,
  isCallback,
  SCOPES,
} from '../helpers/install-fixture.ts';
import { Worker, workerConfig } from '../helpers/multiprocess-harness.ts';
import { Stores, storeTest, unavailable } from '../helpers/multiprocess-stores.ts';

const AFTER_AUTH_MS = 400;
const LEASE_TTL_MS = 1000;

/**
 * The callback that completes the install (the per-user leg's), reached by `browser` as staff user
 * number `user` of the shop, and not yet requested.
 */
async function lastCallback(
  browser: Browser,
  consent: Page,
  shop: string,
  emulator: Emulator,
  user: number,
): Promise<string> {
  const userId = emulator.shop(shop)!.users[user]!.id;
  const button = /value="install"/.test(consent.body)
    ? { name: 'action', value: 'install' }
    : { name: 'action', value: 'login' };
  const offlineLeg = await browser.submit(consent, button, { user_id: userId }, { stopBefore: isCallback });
  assert.equal(offlineLeg.status, 302, `no redirect back to the app from ${offlineLeg.url}`);
  const onlineLeg = await browser.navigate(offlineLeg.headers.get('location')!, { stopBefore: isCallback });
  assert.equal(onlineLeg.status, 302, 'the offline leg hands over to the per-user leg');
  return new URL(onlineLeg.headers.get('location')!, onlineLeg.url).href;
}

/**
 * Each browser up to its last callback (consent pages first, so that each sees the install), each
 * as another staff member: one user's second sign-in would replace the online token the first
 * browser's session is bound to.
 */
async function bothReady(browsers: Browser[], shop: string, emulator: Emulator): Promise<string[]> {
  const consents = await Promise.all(browsers.map((b) => b.navigate(`${APP_URL}/auth?shop=${shop}`)));
  for (const page of consents) assert.equal(page.status, 200, 'the consent page');
  const callbacks: string[] = [];
  for (const [i, browser] of browsers.entries()) {
    callbacks.push(await lastCallback(browser, consents[i]!, shop, emulator, i));
  }
  return callbacks;
}

/** A sign-in from a new browser: through the emulator's login (or consent) page, to the app. */
async function signIn(browser: Browser, shop: string, emulator: Emulator): Promise<Page> {
  const page = await browser.navigate(`${APP_URL}/auth?shop=${shop}`);
  if (new URL(page.url).origin !== EMULATOR_ORIGIN) return page;
  const button = /value="install"/.test(page.body) ? 'install' : 'login';
  return browser.submit(page, { name: 'action', value: button }, { user_id: emulator.shop(shop)!.users[0]!.id });
}

describe('install claim: one instance, two browsers at once', () => {
  it('a slow afterAuth runs once; the other callback calls afterLogin', async () => {
    const shop = 'claim-one-instance.myshopify.com';
    let running = 0;
    let overlapped = false;
    const f = createInstallFixture({
      afterAuth: async (ctx) => {
        overlapped ||= running > 0;
        running++;
        f.afterAuth.push(ctx);
        await sleep(AFTER_AUTH_MS);
        running--;
      },
    });
    const browsers = [f.browser, f.newBrowser()];
    const callbacks = await bothReady(browsers, shop, f.emulator);
    const pages = await Promise.all(browsers.map((b, i) => b.navigate(callbacks[i]!)));
    for (const page of pages) assert.equal(page.status, 200, 'both end signed in on the app');
    assert.equal(f.afterAuth.length, 1, 'afterAuth once');
    assert.equal(f.afterLogin.length, 1, 'the other browser signed in');
    assert.equal(overlapped, false);
    assert.notEqual((await f.vault.offline(shop))?.installedAt, null, 'marked');
  });
});

describe('install race: two offline legs of one new shop at once', () => {
  // Shopify keeps one expiring offline token per app and store: each code exchange retires the
  // refresh token of the one before (shopify-protocol §3.1). When browser A's exchange is answered
  // first but its answer is stored last, the shop keeps A's retired refresh token, and its first
  // refresh, an hour later, marks it needs_reauth. The offline leg's exchange and save therefore run
  // as the shop's only offline grant (vault.withOfflineGrant): the second waits for the first's save.
  it('keeps the refresh token of the last exchange Shopify answered', async () => {
    const shop = 'claim-offline-race.myshopify.com';
    const f = createInstallFixture();
    const answer = emulatorFetch(f.emulator);
    let exchanges = 0;
    // The first exchange's answer reaches the app late (a slow network): its grant is already made.
    const slowFirst = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await answer(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/admin/oauth/access_token') && exchanges++ === 0) await sleep(300);
      return response;
    }) as typeof fetch;
    const app = f.create({ fetch: slowFirst });
    const browsers = [f.newBrowser(undefined, app), f.newBrowser(undefined, app)];
    const consents = await Promise.all(browsers.map((b) => b.navigate(`${APP_URL}/auth?shop=${shop}`)));
    const users = f.emulator.shop(shop)!.users;
    const offlineLegs = await Promise.all(
      browsers.map((b, i) =>
        b.submit(
          consents[i]!,
          { name: 'action', value: 'install' },
          { user_id: users[i]!.id },
          { stopBefore: isCallback },
        ),
      ),
    );
    await Promise.all(
      browsers.map((b, i) => b.navigate(offlineLegs[i]!.headers.get('location')!, { stopBefore: isCallback })),
    );
    f.clock.advance(3_601_000);
    const refreshed = await f.vault.token(shop).then(
      () => 'refreshed',
      (error: { code?: string }) => error.code,
    );
    assert.equal(refreshed, 'refreshed', 'the stored refresh token is the live one');
  });
});

const reasons = await unavailable();
const stores = new Stores();

describe('install claim: instances sharing PostgreSQL', () => {
  const keys = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
  let emulator: Emulator;
  let origin: string;
  let closeEmulator: (() => Promise<void>) | undefined;
  let database: string;
  const vaults: Vault[] = [];

  before(async () => {
    if (reasons.postgres !== null) return;
    // The emulator owns its clock (the worker below reads it over HTTP); the browsers reach it in-process.
    emulator = createEmulator({
      apps: [{ clientId: API_KEY, clientSecret: API_SECRET, redirectUrls: [`${APP_URL}/auth/callback`] }],
    });
    ({ origin, close: closeEmulator } = await emulator.listen());
    database = await stores.fresh('postgres', 'install');
  });
  after(async () => {
    for (const vault of vaults) await vault.close();
    await closeEmulator?.();
    await stores.dropAll();
  });

  /** An app instance: its own vault (and connections) over the shared store, and hooks that record into `calls`. */
  async function instance(calls: {
    afterAuth: AfterAuthContext[];
    afterLogin: AfterLoginContext[];
    onAfterAuth?: () => Promise<void>;
  }): Promise<{ shoptoken: Shoptoken; vault: Vault; browser(): Browser }> {
    const { storage } = await openConfiguredStorage({ database, cwd: process.cwd() });
    const vault = openVault({
      storage,
      keys: keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
      now: emulator.clock.now,
      coordination: { leaseTtlMs: LEASE_TTL_MS },
    });
    vaults.push(vault);
    const shoptoken = createShoptoken({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      scopes: SCOPES,
      appUrl: APP_URL,
      vault,
      shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
      fetch: emulatorFetch(emulator),
      now: emulator.clock.now,
      afterAuth: async (ctx) => {
        calls.afterAuth.push(ctx);
        await calls.onAfterAuth?.();
      },
      afterLogin: (ctx) => void calls.afterLogin.push(ctx),
    });
    const browser = () =>
      new Browser({ origins: { [APP_URL]: appFetcher(shoptoken), [EMULATOR_ORIGIN]: emulator.fetch } });
    return { shoptoken, vault, browser };
  }

  storeTest('postgres', reasons.postgres, 'two instances, two browsers at once → afterAuth once', async () => {
    const shop = 'claim-two-instances.myshopify.com';
    const calls = { afterAuth: [], afterLogin: [], onAfterAuth: () => sleep(AFTER_AUTH_MS) };
    const one = await instance(calls);
    const two = await instance(calls);
    const browsers = [one.browser(), two.browser()];
    const callbacks = await bothReady(browsers, shop, emulator);
    const started = performance.now();
    const pages = await Promise.all(browsers.map((b, i) => b.navigate(callbacks[i]!)));
    const ms = Math.round(performance.now() - started);
    console.log(
      `# postgres install claim: ${JSON.stringify({ afterAuth: calls.afterAuth.length, afterLogin: calls.afterLogin.length, ms })}`,
    );
    for (const page of pages) assert.equal(page.status, 200, 'both end signed in on the app');
    assert.equal(calls.afterAuth.length, 1, 'afterAuth once across the instances');
    assert.equal(calls.afterLogin.length, 1, 'the other browser signed in');
    assert.notEqual((await one.vault.offline(shop))?.installedAt, null, 'marked');
  });

  storeTest(
    'postgres',
    reasons.postgres,
    'a claimant whose afterAuth throws → the next sign-in completes it',
    async () => {
      const shop = 'claim-throws.myshopify.com';
      const failure = new Error('webhook registration failed');
      let attempts = 0;
      const calls = {
        afterAuth: [] as AfterAuthContext[],
        afterLogin: [] as AfterLoginContext[],
        onAfterAuth: async () => {
          attempts++;
          await sleep(AFTER_AUTH_MS);
          if (attempts === 1) throw failure;
        },
      };
      const one = await instance(calls);
      const two = await instance(calls);
      const browser = one.browser();
      const [first] = await bothReady([browser], shop, emulator);
      await assert.rejects(browser.navigate(first!), (error) => error === failure);
      assert.equal((await two.vault.offline(shop))?.installedAt, null, 'not marked after the failure');

      // The next sign-in, on the other instance: afterAuth once more, then marked.
      const next = await signIn(two.browser(), shop, emulator);
      assert.equal(next.status, 200);
      assert.equal(calls.afterAuth.length, 2, 'afterAuth ran again');
      assert.equal(calls.afterLogin.length, 0);
      assert.notEqual((await one.vault.offline(shop))?.installedAt, null, 'marked');
      const later = await signIn(one.browser(), shop, emulator);
      assert.equal(later.status, 200);
      assert.equal(calls.afterAuth.length, 2, 'never again');
      assert.equal(calls.afterLogin.length, 1);
    },
  );

  storeTest(
    'postgres',
    reasons.postgres,
    'a claimant process killed during afterAuth → the next sign-in completes it',
    async () => {
      const shop = 'claim-killed.myshopify.com';
      const calls = { afterAuth: [] as AfterAuthContext[], afterLogin: [] as AfterLoginContext[] };
      const one = await instance(calls);
      const browser = one.browser();
      // The offline leg is stored; the browser stops before the callback that would complete the install.
      const [callback] = await bothReady([browser], shop, emulator);
      // Another process claims the install and dies inside afterAuth.
      const claimant = new Worker(
        workerConfig(database, keys, origin, {
          clientId: API_KEY,
          clientSecret: API_SECRET,
          coordination: { leaseTtlMs: LEASE_TTL_MS },
        }),
      );
      try {
        await claimant.ready;
        const started = claimant.next((line) => line.event === 'afterAuth');
        claimant.send({ op: 'completeInstall', shop, afterAuthMs: 60_000 }).catch(() => undefined);
        await started;
      } finally {
        await claimant.kill();
      }
      assert.equal((await one.vault.offline(shop))?.installedAt, null, 'the dead claimant marked nothing');

      const waited = performance.now();
      const page = await browser.navigate(callback!);
      const ms = Math.round(performance.now() - waited);
      console.log(
        `# postgres install claim after a kill: ${JSON.stringify({ afterAuth: calls.afterAuth.length, ms })}`,
      );
      assert.equal(page.status, 200);
      assert.equal(calls.afterAuth.length, 1, 'afterAuth ran in the next sign-in');
      assert.equal(calls.afterLogin.length, 0);
      assert.notEqual((await one.vault.offline(shop))?.installedAt, null, 'marked');
    },
  );
});
