/**
 * Several instances of an app behind one load balancer: the OAuth state an instance issues lives in
 * the shared store (the vault's, by default), so Shopify's callback may land on any instance, and a
 * state is still used once across all of them.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
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

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-shared-states-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SHOP = 'cool-shop.myshopify.com';

async function twoInstances() {
  const clock = createClock();
  const emulator = createEmulator({
    apps: [{ clientId: API_KEY, clientSecret: API_SECRET, redirectUrls: [`${APP_URL}/auth/callback`] }],
    now: clock.now,
  });
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  const path = join(dir, `${randomBytes(4).toString('hex')}.db`);
  const instance = async () =>
    createShoptoken({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      scopes: SCOPES,
      appUrl: APP_URL,
      vault: openVault({ storage: await openSqliteStorage(path), keys, now: clock.now }),
      shopifyBaseUrl: emulator.baseUrl(EMULATOR_ORIGIN),
      fetch: emulatorFetch(emulator),
      now: clock.now,
    });
  return { clock, emulator, a: await instance(), b: await instance() };
}

describe('OAuth states shared by instances through the store', () => {
  it('the install starts on one instance and every callback lands on the other', async () => {
    const { clock, emulator, a, b } = await twoInstances();
    const toA = appFetcher(a);
    const toB = appFetcher(b);
    const app = (request: Request) => (isCallback(new URL(request.url)) ? toB(request) : toA(request));
    const browser = new Browser({ origins: { [APP_URL]: app, [EMULATOR_ORIGIN]: emulator.fetch }, now: clock.now });
    const consent = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(consent.status, 200, 'the emulator’s consent page');
    const olivia = emulator.shop(SHOP)?.users[0]?.id ?? '';
    const landed = await browser.submit(consent, { name: 'action', value: 'install' }, { user_id: olivia });
    assert.equal(landed.status, 200, landed.body);
    assert.deepEqual(JSON.parse(landed.body), { shop: SHOP, userId: olivia, hasOffline: true });
    const callbacks = landed.hops.filter((hop) => isCallback(new URL(hop.url)));
    assert.equal(callbacks.length, 2, 'the offline and the per-user callbacks, both on instance B');
  });

  it('a callback replayed on another instance is refused: the state was used', async () => {
    const { clock, emulator, a, b } = await twoInstances();
    const browser = new Browser({
      origins: { [APP_URL]: appFetcher(a), [EMULATOR_ORIGIN]: emulator.fetch },
      now: clock.now,
    });
    const consent = await browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    const olivia = emulator.shop(SHOP)?.users[0]?.id ?? '';
    const stopped = await browser.submit(
      consent,
      { name: 'action', value: 'install' },
      { user_id: olivia },
      { stopBefore: isCallback },
    );
    const target = new URL(stopped.headers.get('location') ?? '');
    const callback = new Request(target, {
      headers: { cookie: browser.jar.header(target, { method: 'GET', crossSite: true }) ?? '' },
    });
    const first = await b.handle(callback.clone());
    assert.equal(first?.status, 302, 'taken on instance B');
    const replay = await a.handle(callback);
    assert.equal(replay?.status, 403, 'the same state on instance A: unknown, used or expired');
  });
});
