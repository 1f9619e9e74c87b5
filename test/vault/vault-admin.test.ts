/** `vault.admin(shop)`: the Admin client the vault hands out, pointed by the vault's own settings. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { APP, inProcessFetch, installInto, openEmulatorVault } from '../helpers/emulator-install.ts';

describe('vault.admin', () => {
  it('queries the Admin API with a current token, refreshing an expired one first', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const vault = openEmulatorVault(emulator, { admin: { fetch: inProcessFetch(emulator) } });
    const shop = 'vault-admin.myshopify.com';
    await installInto(emulator, vault, shop, { expiring: true });

    const first = await vault
      .admin(shop)
      .request<{ shop: { myshopifyDomain: string } }>('{ shop { myshopifyDomain } }');
    assert.equal(first.data?.shop.myshopifyDomain, shop);
    assert.ok(first.extensions.cost, 'the query cost is exposed');

    emulator.clock.advance(3_600_000 + 1);
    const refreshesBefore = emulator.grants().filter((g) => g.grantType === 'refresh_token').length;
    const second = await vault
      .admin(shop)
      .request<{ shop: { myshopifyDomain: string } }>('{ shop { myshopifyDomain } }');
    assert.equal(second.data?.shop.myshopifyDomain, shop);
    assert.equal(emulator.grants().filter((g) => g.grantType === 'refresh_token').length, refreshesBefore + 1);
  });
});
