/**
 * The install flow and its vault reach the same Shopify with the same app: a vault opened without
 * Shopify settings is connected by createShoptoken (so it can refresh, and vault.admin() never
 * calls the real Shopify while the flow uses the emulator); a vault configured otherwise is refused.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { configProblems } from '../helpers/config-problems.ts';
import { API_KEY, API_SECRET, APP_URL, createInstallFixture, SCOPES } from '../helpers/install-fixture.ts';

const EMULATOR_BASE = 'http://emulator.test/{shop}';
const bare = () => openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
const flow = (vault: ReturnType<typeof bare>, extra: Record<string, unknown> = {}) =>
  createShoptoken({ apiKey: API_KEY, apiSecret: API_SECRET, scopes: SCOPES, appUrl: APP_URL, vault, ...extra });

describe('createShoptoken connects its vault', () => {
  it('a vault without Shopify settings takes the flow’s app and base URL', () => {
    const vault = bare();
    assert.deepEqual(vault.shopify, { baseUrl: 'https://{shop}', clientId: null, fetch: undefined });
    flow(vault, { shopifyBaseUrl: EMULATOR_BASE });
    assert.deepEqual(vault.shopify, { baseUrl: EMULATOR_BASE, clientId: API_KEY, fetch: undefined });
    // A second flow for the same app and Shopify is fine; another Shopify is not.
    flow(vault, { shopifyBaseUrl: EMULATOR_BASE });
    const [problem] = configProblems(() => flow(vault));
    assert.match(
      problem!,
      /^vault: the vault reaches Shopify at http:\/\/emulator\.test\/\{shop\} and the install flow at https:\/\/\{shop\}/,
    );
  });

  it('refuses a vault configured for another app or another Shopify, and never quotes a secret', () => {
    const other = openVault({
      storage: createMemoryStorage(),
      keys: [{ id: 'k1', key: randomBytes(32) }],
      shopify: { clientId: 'another-app', clientSecret: 'shpss_another_secret' },
    });
    const problems = configProblems(() => flow(other, { shopifyBaseUrl: EMULATOR_BASE }));
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /another app \(client id another-app, not shoptoken-test-client\)/);
    assert.match(problems[1]!, /reaches Shopify at https:\/\/\{shop\} and the install flow at http:\/\/emulator\.test/);
    assert.ok(!problems.join('').includes('shpss_'));
    const pinned = openVault({
      storage: createMemoryStorage(),
      keys: [{ id: 'k1', key: randomBytes(32) }],
      shopifyBaseUrl: EMULATOR_BASE,
    });
    assert.match(configProblems(() => flow(pinned))[0]!, /vault reaches Shopify at http:\/\/emulator\.test\/\{shop\}/);
    assert.deepEqual(
      pinned.shopify,
      { baseUrl: EMULATOR_BASE, clientId: null, fetch: undefined },
      'a refused vault is not changed',
    );
  });

  it('a vault’s own base-URL settings must agree with each other', () => {
    assert.throws(
      () =>
        openVault({
          storage: createMemoryStorage(),
          keys: [{ id: 'k1', key: randomBytes(32) }],
          shopifyBaseUrl: EMULATOR_BASE,
          admin: { shopifyBaseUrl: 'https://{shop}' },
        }),
      /admin\.shopifyBaseUrl and shopifyBaseUrl name different Shopify base URLs/,
    );
  });

  it('after an install through the emulator, the connected vault refreshes and calls the Admin API there', async () => {
    const fixture = createInstallFixture();
    const shop = 'cool-shop.myshopify.com';
    await fixture.install(shop);
    const offline = await fixture.vault.offline(shop);
    assert.equal(offline?.expiring, true);
    fixture.clock.advance(3_600_000);
    const refreshed = await fixture.vault.token(shop);
    assert.notEqual(refreshed.accessToken, offline?.accessToken, 'refreshed through the emulator');
    const { data } = await fixture.vault.admin(shop).request<{ shop: { name: string } }>('{ shop { name } }');
    assert.equal(data?.shop.name, 'Cool Shop');
    const grants = fixture.emulator.grants().map((grant) => grant.grantType);
    assert.deepEqual(grants, ['authorization_code', 'authorization_code', 'refresh_token']);
  });
});
