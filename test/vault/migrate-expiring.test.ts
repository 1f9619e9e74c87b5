/**
 * vault.migrateToExpiring through the emulator's migration exchange: migrated, already expiring,
 * uninstalled, a lost answer recovered by a rerun (commit-then-drop over a real socket), and the plan.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/protocol/migration.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, inProcessFetch, installInto, ORIGIN } from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';

function openTestVault(
  emulator: Emulator,
  options: { storage?: TokenStorage; baseUrl?: string; fetch?: typeof fetch; attempts?: number } = {},
) {
  const storage = options.storage ?? createMemoryStorage();
  const vault = openVault({
    storage,
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: {
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      baseUrl: options.baseUrl ?? `${ORIGIN}/{shop}`,
      fetch: options.fetch ?? inProcessFetch(emulator),
    },
    refresh: { attempts: options.attempts ?? 4, sleep: async () => {} },
  });
  return { vault, storage };
}

const exchanges = (emulator: Emulator) => emulator.grants().filter((grant) => grant.grantType === TOKEN_EXCHANGE_GRANT);

describe('vault.migrateToExpiring through the emulator', () => {
  it('migrates a non-expiring token: the new pair is stored, works, and the old token is revoked', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, storage } = openTestVault(emulator);
    const old = await installInto(emulator, vault, SHOP);
    assert.equal(old.expiring, false);
    assert.deepEqual(await vault.token(SHOP), old);

    assert.deepEqual(await vault.migrateToExpiring(SHOP), { shop: SHOP, status: 'migrated', reason: null });
    const row = await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.ok(row?.refreshToken);
    assert.equal(row.migrationStartedAt, null);
    const token = await vault.token(SHOP);
    assert.equal(token.expiring, true);
    assert.notEqual(token.accessToken, old.accessToken, 'the cached non-expiring token is not served any more');
    const lifetime = (token.expiresAt?.getTime() ?? 0) - emulator.clock.now();
    assert.ok(lifetime > 3_500_000 && lifetime <= 3_600_000, 'an hour, counted from when the exchange was sent');
    assert.equal(await adminStatus(emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
    assert.equal(await adminStatus(emulator, SHOP, old.accessToken), 401);
    assert.equal(exchanges(emulator).length, 1);

    // The migrated token refreshes like any expiring token.
    emulator.clock.advance(3_600_000);
    const refreshed = await vault.token(SHOP);
    assert.notEqual(refreshed.accessToken, token.accessToken);
    assert.equal(await adminStatus(emulator, SHOP, refreshed.accessToken), ADMIN_QUERY_OK);
  });

  it('reports an expiring token as already expiring and sends nothing', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, storage } = openTestVault(emulator);
    await installInto(emulator, vault, SHOP, { expiring: true });
    const before = await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.deepEqual(await vault.migrateToExpiring(SHOP), { shop: SHOP, status: 'already_expiring', reason: null });
    assert.deepEqual(await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }), before);
    assert.equal(exchanges(emulator).length, 0);
  });

  it('an uninstalled shop fails with the reason; its row keeps the old token', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, storage } = openTestVault(emulator);
    const old = await installInto(emulator, vault, SHOP);
    emulator.uninstall(SHOP, APP.clientId);
    assert.deepEqual(await vault.migrateToExpiring(SHOP), {
      shop: SHOP,
      status: 'failed',
      reason: 'invalid_subject_token (HTTP 400)',
    });
    const row = await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
    assert.equal(row?.refreshToken, null);
    assert.equal((await vault.offline(SHOP))?.accessToken, old.accessToken);
    assert.equal(exchanges(emulator).length, 1, 'a refusal is not retried');
    assert.deepEqual(
      await vault.migrationPlan(),
      [{ shop: SHOP, state: 'non_expiring' }],
      'the refusal cleared the intent',
    );
  });

  it('a shop with no token fails without a request', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault } = openTestVault(emulator);
    assert.deepEqual(await vault.migrateToExpiring(SHOP), {
      shop: SHOP,
      status: 'failed',
      reason: 'no offline token is stored',
    });
    assert.equal(exchanges(emulator).length, 0);
  });

  it('commit-then-drop: the intent stays, a rerun repeats the same exchange and stores the one pair', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const server = await emulator.listen();
    try {
      const { vault, storage } = openTestVault(emulator, {
        baseUrl: emulator.baseUrl(server.origin),
        fetch,
        attempts: 1,
      });
      const old = await installInto(emulator, vault, SHOP);
      emulator.faults.add({ endpoint: 'token', grantType: TOKEN_EXCHANGE_GRANT, commitThenDrop: true });

      const lost = await vault.migrateToExpiring(SHOP);
      assert.equal(lost.status, 'failed');
      assert.equal(lost.reason, 'ERR_TRANSPORT');
      assert.equal(await adminStatus(emulator, SHOP, old.accessToken), 401, 'Shopify applied the exchange');
      const intent = await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' });
      assert.equal(intent?.refreshToken, null);
      assert.equal(typeof intent?.migrationStartedAt, 'number');
      assert.equal((await vault.offline(SHOP))?.accessToken, old.accessToken, 'the original token is kept');

      assert.deepEqual(await vault.migrateToExpiring(SHOP), { shop: SHOP, status: 'migrated', reason: null });
      const token = await vault.token(SHOP);
      assert.equal(token.expiring, true);
      assert.equal(await adminStatus(emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
      assert.deepEqual(
        exchanges(emulator).map((grant) => grant.status),
        [200, 200],
      );
      assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.migrationStartedAt, null);
      // The stored refresh token is the live one: a refresh succeeds.
      emulator.clock.advance(3_600_000);
      assert.equal(await adminStatus(emulator, SHOP, (await vault.token(SHOP)).accessToken), ADMIN_QUERY_OK);
    } finally {
      await server.close();
    }
  });

  it('vault.token finishes a started migration instead of serving the revoked token', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const server = await emulator.listen();
    try {
      const { vault } = openTestVault(emulator, { baseUrl: emulator.baseUrl(server.origin), fetch, attempts: 1 });
      const old = await installInto(emulator, vault, SHOP);
      emulator.faults.add({ endpoint: 'token', grantType: TOKEN_EXCHANGE_GRANT, commitThenDrop: true });
      assert.equal((await vault.migrateToExpiring(SHOP)).status, 'failed');
      const token = await vault.token(SHOP);
      assert.equal(token.expiring, true);
      assert.notEqual(token.accessToken, old.accessToken);
      assert.equal(await adminStatus(emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
      assert.equal(exchanges(emulator).length, 2);
    } finally {
      await server.close();
    }
  });

  it('retries a lost answer within one call (transient faults are retried with backoff)', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const server = await emulator.listen();
    try {
      const { vault } = openTestVault(emulator, { baseUrl: emulator.baseUrl(server.origin), fetch });
      await installInto(emulator, vault, SHOP);
      emulator.faults.add({ endpoint: 'token', grantType: TOKEN_EXCHANGE_GRANT, commitThenDrop: true });
      assert.equal((await vault.migrateToExpiring(SHOP)).status, 'migrated');
      assert.equal(exchanges(emulator).length, 2);
      assert.equal(await adminStatus(emulator, SHOP, (await vault.token(SHOP)).accessToken), ADMIN_QUERY_OK);
    } finally {
      await server.close();
    }
  });

  it('concurrent calls for one shop send one exchange', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault } = openTestVault(emulator);
    await installInto(emulator, vault, SHOP);
    const results = await Promise.all(Array.from({ length: 20 }, () => vault.migrateToExpiring(SHOP)));
    assert.ok(results.every((result) => result.status === 'migrated'));
    assert.equal(exchanges(emulator).length, 1);
  });

  it('migrationPlan lists every offline token with its state', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault } = openTestVault(emulator);
    await installInto(emulator, vault, 'b-shop.myshopify.com', { expiring: true });
    await installInto(emulator, vault, 'a-shop.myshopify.com');
    assert.deepEqual(await vault.migrationPlan(), [
      { shop: 'a-shop.myshopify.com', state: 'non_expiring' },
      { shop: 'b-shop.myshopify.com', state: 'expiring' },
    ]);
  });
});
