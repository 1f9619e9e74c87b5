/**
 * The keeper renewing client-credentials tokens through the emulator (its clock is the vault's):
 * renewed once their renewal time comes within `aheadMs`, through the vault's single-flight grant,
 * so the request path then finds a fresh token and makes no request. Nothing sleeps.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import type { KeeperOptions } from '../../src/vault/keeper.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, inProcessFetch, ORIGIN } from '../helpers/emulator-install.ts';

const SHOP = 'own-store.myshopify.com';
/** The emulator's client-credentials lifetime: renewal at 80 % of it (before 5 minutes before expiry). */
const LIFETIME = 86_399_000;
const MINUTE = 60_000;

function setup(storage: TokenStorage = createMemoryStorage(), options: KeeperOptions = {}) {
  const emulator = createEmulator({ apps: [APP] });
  emulator.setOrganizationApp(SHOP, APP.clientId);
  emulator.install(SHOP, APP.clientId, ['write_products']);
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: { ...APP, baseUrl: `${ORIGIN}/{shop}`, fetch: inProcessFetch(emulator) },
    refresh: { sleep: async () => {} },
  });
  const keeper = vault.keeper({
    jitter: false,
    setTimer: (run) => setImmediate(run),
    clearTimer: () => {},
    ...options,
  });
  return { emulator, vault, keeper, storage };
}

const grants = (emulator: Emulator) => emulator.grants().filter((grant) => grant.grantType === 'client_credentials');

describe('keeper: client-credentials tokens', () => {
  for (const [name, open] of [
    ['memory', createMemoryStorage],
    ['sqlite', () => openSqliteStorage(':memory:')],
  ] as const) {
    it(`renews a token whose renewal comes within aheadMs; the request path then makes no request (${name})`, async () => {
      const { emulator, vault, keeper, storage } = setup(await open());
      const acquired = await vault.useClientCredentials(SHOP);
      // 5 minutes before the renewal time: inside the default 10-minute window.
      emulator.clock.advance(LIFETIME * 0.8 - 5 * MINUTE);
      const report = await keeper.runOnce();
      assert.deepEqual(
        { ...report, durationMs: 0 },
        {
          scanned: 1,
          refreshed: 1,
          failed: 0,
          needsReauth: 0,
          skipped: 0,
          deferred: 0,
          paused: null,
          durationMs: 0,
        },
      );
      assert.equal(grants(emulator).length, 2, 'the acquisition and one renewal');

      const requests = emulator.requests().length;
      const token = await vault.token(SHOP);
      assert.equal(emulator.requests().length, requests, 'token() made no request');
      assert.equal(grants(emulator).length, 2);
      assert.notEqual(token.accessToken, acquired.accessToken);
      assert.equal(token.grant, 'client_credentials');
      assert.ok(token.expiresAt && token.expiresAt.getTime() > emulator.clock.now() + LIFETIME - MINUTE);
      assert.equal(await adminStatus(emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);

      // Renewed: the next tick finds nothing due and asks for nothing.
      assert.equal((await keeper.runOnce()).scanned, 0);
      assert.equal(grants(emulator).length, 2);
      await storage.close();
    });
  }

  it('leaves a token alone while its renewal is further away than aheadMs', async () => {
    const { emulator, vault, keeper } = setup();
    const acquired = await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.8 - 11 * MINUTE);
    assert.equal((await keeper.runOnce()).scanned, 0);
    assert.equal(grants(emulator).length, 1);
    assert.equal((await vault.token(SHOP)).accessToken, acquired.accessToken);
  });

  it('with aheadMs 0 leaves renewal to the request path', async () => {
    const { emulator, vault, keeper } = setup(createMemoryStorage(), { aheadMs: 0 });
    await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.8 - MINUTE);
    assert.equal((await keeper.runOnce()).scanned, 0);
    assert.equal(grants(emulator).length, 1);
  });

  it('shares one grant with a request-path renewal running at the same time', async () => {
    const { emulator, vault, keeper } = setup();
    await vault.useClientCredentials(SHOP);
    emulator.clock.advance(LIFETIME * 0.8 - MINUTE);
    // A margin past the renewal rule makes token() renew now, as the keeper does.
    const [report, token] = await Promise.all([keeper.runOnce(), vault.token(SHOP, { marginMs: LIFETIME })]);
    assert.equal(report.refreshed, 1);
    assert.equal(grants(emulator).length, 2, 'one renewal for both');
    assert.equal((await vault.token(SHOP)).accessToken, token.accessToken);
  });
});
