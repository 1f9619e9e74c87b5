/**
 * A shop marked `needs_reauth` is refused by `vault.token` (its token is never handed out again)
 * until a new install stores a token; a started migration that Shopify refuses marks the shop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { APP, installInto, openEmulatorVault } from '../helpers/emulator-install.ts';

const SHOP = 'marked-shop.myshopify.com';

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  const storage = createMemoryStorage();
  const vault = openEmulatorVault(emulator, { storage });
  const events: string[] = [];
  vault.on('needs_reauth', ({ reason }) => events.push(reason));
  return { emulator, storage, vault, events };
}

describe('needs_reauth', () => {
  for (const expiring of [true, false]) {
    it(`a marked shop's ${expiring ? 'expiring' : 'non-expiring'} token is not handed out, even while fresh`, async () => {
      const { emulator, vault, storage, events } = setup();
      await installInto(emulator, vault, SHOP, { expiring });
      const token = await vault.token(SHOP);
      assert.equal(await vault.markNeedsReauth(SHOP, 'admin_unauthorized', token.accessToken), true);
      assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'needs_reauth');
      await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
      assert.equal(await vault.markNeedsReauth(SHOP, 'admin_unauthorized', token.accessToken), false, 'marked once');
      assert.deepEqual(events, ['admin_unauthorized']);

      await installInto(emulator, vault, SHOP, { expiring });
      assert.ok((await vault.token(SHOP)).accessToken, 'a new install clears the mark');
    });
  }

  it('a stale token never marks a newer one', async () => {
    const { emulator, vault, storage } = setup();
    await installInto(emulator, vault, SHOP, { expiring: false });
    assert.equal(await vault.markNeedsReauth(SHOP, 'admin_unauthorized', 'shpat_not_the_stored_token_0000'), false);
    assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
  });

  it('a started migration that Shopify refuses marks the shop instead of serving the old token', async () => {
    const { emulator, vault, storage, events } = setup();
    await installInto(emulator, vault, SHOP, { expiring: false });
    const row = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
    await storage.put({ ...row, migrationStartedAt: emulator.clock.now() }); // a crash after the exchange was sent
    emulator.uninstall(SHOP, APP.clientId); // the exchange is now refused (invalid_subject_token)
    await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'needs_reauth');
    assert.deepEqual(events, ['invalid_subject_token']);
  });
});
