/** vault.importCustomToken through the emulator's Admin API: a working token is stored with its scopes; others are rejected. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createEmulator } from '../../src/emulator/index.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { APP, installOffline, openEmulatorVault } from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  const storage = createMemoryStorage();
  const vault = openEmulatorVault(emulator, { storage });
  return { emulator, vault, storage };
}

const graphqlRequests = (emulator: ReturnType<typeof setup>['emulator']) =>
  emulator.requests().filter((request) => request.endpoint === 'graphql');

describe('vault.importCustomToken', () => {
  it('stores a token the Admin API accepts, sealed, with the scopes it reports', async () => {
    const { emulator, vault, storage } = setup();
    const { accessToken } = await installOffline(emulator, SHOP);
    const stored = await vault.importCustomToken(SHOP, accessToken);
    assert.equal(stored.grant, 'custom');
    assert.equal(stored.expiresAt, null);
    assert.deepEqual(stored.scopes, ['write_products', 'read_products'], 'as currentAppInstallation reports them');
    assert.equal(graphqlRequests(emulator).length, 1);
    assert.ok(!JSON.stringify(await storage.list({ limit: 10_000 })).includes(accessToken), 'stored sealed');
    const token = await vault.token(SHOP);
    assert.equal(token.accessToken, accessToken);
    assert.equal(token.grant, 'custom');
    // Custom apps are not migrated to expiring tokens.
    assert.deepEqual(await vault.migrationPlan(), []);
    assert.equal((await vault.migrateToExpiring(SHOP)).status, 'failed');
  });

  it('rejects a bogus token and stores nothing; the message never holds the token', async () => {
    const { emulator, vault, storage } = setup();
    const bogus = `shpca_${randomBytes(16).toString('hex')}`;
    await assert.rejects(vault.importCustomToken(SHOP, bogus), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_TOKEN_REJECTED');
      assert.match(error.message, /HTTP 401/);
      assert.ok(!error.message.includes(bogus));
      return true;
    });
    assert.deepEqual(await storage.list({ limit: 10_000 }), []);
    assert.equal(graphqlRequests(emulator).length, 1);
  });

  it('rejects a working token of another shop, and a revoked one; keeps what was stored', async () => {
    const { emulator, vault } = setup();
    const { accessToken: other } = await installOffline(emulator, 'other-shop.myshopify.com');
    await assert.rejects(vault.importCustomToken(SHOP, other), { code: 'ERR_TOKEN_REJECTED' });
    const { accessToken } = await installOffline(emulator, SHOP);
    await vault.importCustomToken(SHOP, accessToken);
    emulator.uninstall(SHOP, APP.clientId);
    await assert.rejects(vault.importCustomToken(SHOP, accessToken), { code: 'ERR_TOKEN_REJECTED' });
    assert.equal((await vault.offline(SHOP))?.accessToken, accessToken);
  });

  it('a 5xx is a retryable error, not a rejection; nothing is stored', async () => {
    const { emulator, vault, storage } = setup();
    const { accessToken } = await installOffline(emulator, SHOP);
    emulator.faults.add({ endpoint: 'graphql', status: 503 });
    await assert.rejects(vault.importCustomToken(SHOP, accessToken), {
      code: 'ERR_UNEXPECTED_RESPONSE',
      retryable: true,
    });
    assert.deepEqual(await storage.list({ limit: 10_000 }), []);
  });

  it('refuses malformed input before any request', async () => {
    const { emulator, vault } = setup();
    await assert.rejects(vault.importCustomToken(SHOP, ''), TypeError);
    await assert.rejects(vault.importCustomToken(SHOP, 'has space'), TypeError);
    // Control and non-ASCII characters cannot go into a header; the error about them would quote the token.
    for (const bad of ['shpat_SEC\x00RET', 'shpat_SEC\x7fRET', 'shpat_SECRÉT']) {
      const error = await vault.importCustomToken(SHOP, bad).catch((caught: unknown) => caught);
      assert.ok(error instanceof TypeError);
      assert.ok(!inspect(error).includes('SEC'), 'neither the message nor a cause holds the token');
    }
    await assert.rejects(vault.importCustomToken('not a shop', 'shpca_x'), TypeError);
    assert.equal(graphqlRequests(emulator).length, 0);
  });
});
