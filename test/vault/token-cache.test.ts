import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenCache } from '../../src/vault/token-cache.ts';
import type { OfflineToken } from '../../src/vault/types.ts';

function token(expiresAt: number | null): OfflineToken {
  return { shop: 'a.myshopify.com', expiresAt: expiresAt === null ? null : new Date(expiresAt) } as OfflineToken;
}

describe('TokenCache', () => {
  it('serves an entry only while it is valid for the margin', () => {
    const cache = new TokenCache();
    cache.set('a', token(10_000), 0);
    assert.ok(cache.get('a', 0, 5_000));
    assert.equal(cache.get('a', 5_001, 5_000), undefined, 'within the margin of expiry');
    assert.equal(cache.size, 0, 'a stale entry is dropped');
  });

  it('serves non-expiring tokens for maxAgeMs at most', () => {
    const cache = new TokenCache({ maxAgeMs: 1_000 });
    cache.set('a', token(null), 0);
    assert.ok(cache.get('a', 1_000, 0));
    assert.equal(cache.get('a', 1_001, 0), undefined);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new TokenCache({ maxEntries: 2 });
    cache.set('a', token(null), 0);
    cache.set('b', token(null), 0);
    cache.get('a', 0, 0); // a is now the most recent
    cache.set('c', token(null), 0);
    assert.ok(cache.get('a', 0, 0));
    assert.equal(cache.get('b', 0, 0), undefined);
    assert.ok(cache.get('c', 0, 0));
  });

  it('can be turned off, and entries can be dropped', () => {
    const off = new TokenCache({ maxEntries: 0 });
    off.set('a', token(null), 0);
    assert.equal(off.get('a', 0, 0), undefined);
    const cache = new TokenCache();
    cache.set('a', token(null), 0);
    cache.delete('a');
    assert.equal(cache.get('a', 0, 0), undefined);
  });
});

describe('vault.token with the cache', () => {
  it('serves repeated calls without storage reads, and a write drops the cached token', async () => {
    const { randomBytes } = await import('node:crypto');
    const { createMemoryStorage } = await import('../../src/storage/memory.ts');
    const { openVault } = await import('../../src/open-vault.ts');
    const storage = createMemoryStorage();
    let reads = 0;
    const counting = {
      ...storage,
      get: (...args: Parameters<typeof storage.get>) => {
        reads++;
        return storage.get(...args);
      },
    };
    let now = 1_700_000_000_000;
    const vault = openVault({ storage: counting, keys: [{ id: 'k1', key: randomBytes(32) }], now: () => now });
    const shop = 'cached-shop.myshopify.com';
    const input = { shop, scopes: ['read_products'], refreshToken: null, refreshTokenExpiresAt: null };
    await vault.saveOffline({
      ...input,
      accessToken: 'shpat_first_token_value_0001',
      expiresAt: new Date(now + 3_600_000),
    });
    reads = 0;
    assert.equal((await vault.token(shop)).accessToken, 'shpat_first_token_value_0001');
    assert.equal((await vault.token(shop)).accessToken, 'shpat_first_token_value_0001');
    assert.equal(reads, 1, 'the second call is served from the cache');
    const shared = await vault.token(shop);
    assert.throws(() => (shared.scopes as string[]).push('x'), TypeError, 'a shared token cannot be changed');

    await vault.saveOffline({
      ...input,
      accessToken: 'shpat_second_token_value_002',
      expiresAt: new Date(now + 3_600_000),
    });
    assert.equal((await vault.token(shop)).accessToken, 'shpat_second_token_value_002', 'a write drops the entry');

    now += 3_600_000 - 60_000; // one minute left: inside the default 5-minute margin
    reads = 0;
    // Due: the cache does not serve it; the vault goes to its row (which, with no refresh token, cannot be renewed).
    await assert.rejects(vault.token(shop), { code: 'ERR_NEEDS_REAUTH' });
    assert.ok(reads >= 1);
  });
});
