/**
 * Key rotation end to end: a new key put in front, rows written (refreshed, migrated, signed in
 * again) are re-sealed under it — every sealed field, the previous refresh token included — and
 * once the old key is retired, every row is either readable or cleanly marked: never an
 * `ERR_DECRYPT` on each call, never a refresh loop on a value nobody can open.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenRow, TokenStorage } from '../../src/storage/types.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import { KeyRing } from '../../src/vault/keyring.ts';
import { APP, adminStatus, installInto, openEmulatorVault } from '../helpers/emulator-install.ts';

const EXPIRING = 'expiring-shop.myshopify.com';
const PLAIN = 'plain-shop.myshopify.com';
const HOUR = 3_600_000;
const K1 = { id: 'k1', key: randomBytes(32) };
const K2 = { id: 'k2', key: randomBytes(32) };
const ring = KeyRing.from([K2, K1]);

const SEALED = ['accessToken', 'refreshToken', 'previousRefreshToken', 'user'] as const;
const keyIds = (row: TokenRow | null) =>
  SEALED.flatMap((field) => (row?.[field] ? [`${field}:${ring.keyIdOf(row[field])}`] : []));
const offlineKey = (shop: string) => ({ app: '', shop, kind: 'offline' as const, userId: '' });

function setup() {
  const emulator = createEmulator({ apps: [APP] });
  const storage = createMemoryStorage();
  const open = (keys: (typeof K1)[]) => {
    const vault = openEmulatorVault(emulator, { storage, keys });
    const events: NeedsReauthEvent[] = [];
    vault.on('needs_reauth', (event) => {
      events.push(event);
    });
    return { vault, events };
  };
  const refreshGrants = () => emulator.grants().filter((grant) => grant.grantType === 'refresh_token');
  return { emulator, storage, open, refreshGrants };
}

async function signIn(storage: TokenStorage, vault: ReturnType<ReturnType<typeof setup>['open']>['vault']) {
  await vault.saveOnline({
    shop: EXPIRING,
    accessToken: `shpua_${randomBytes(16).toString('hex')}`,
    scopes: ['write_products'],
    associatedUserScopes: ['write_products'],
    expiresAt: new Date(Date.now() + 1e12),
    user: {
      id: '42',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      emailVerified: true,
      accountOwner: true,
      locale: 'en',
      collaborator: false,
    },
  });
  return storage.get({ app: '', shop: EXPIRING, kind: 'online', userId: '42' });
}

describe('key rotation: re-sealed on write, readable or cleanly marked once the old key is gone', () => {
  it('rotate, refresh, retire: the refreshed row is whole under the new key; the rest is readable or marked', async () => {
    const { emulator, storage, open, refreshGrants } = setup();
    const before = open([K1]);
    await installInto(emulator, before.vault, EXPIRING, { expiring: true });
    await installInto(emulator, before.vault, PLAIN);
    const oldOnline = await signIn(storage, before.vault);
    assert.deepEqual(keyIds(oldOnline), ['accessToken:k1', 'user:k1']);

    // k2 in front: a refresh re-seals the whole row, the previous refresh token included.
    const rotated = open([K2, K1]);
    emulator.clock.advance(2 * HOUR);
    await rotated.vault.token(EXPIRING);
    assert.deepEqual(keyIds(await storage.get(offlineKey(EXPIRING))), [
      'accessToken:k2',
      'refreshToken:k2',
      'previousRefreshToken:k2',
    ]);
    // A migration intent is a write too: the non-expiring row's token is re-sealed by it.
    assert.equal((await rotated.vault.migrateToExpiring(PLAIN)).status, 'migrated');
    assert.deepEqual(keyIds(await storage.get(offlineKey(PLAIN))), ['accessToken:k2', 'refreshToken:k2']);

    // k1 retired.
    const after = open([K2]);
    emulator.clock.advance(2 * HOUR);
    const token = await after.vault.token(EXPIRING);
    assert.equal(await adminStatus(emulator, EXPIRING, token.accessToken), 200);
    assert.equal((await after.vault.token(PLAIN)).expiring, true);
    // The online row still sealed with k1: as good as absent; the user signs in again.
    assert.equal(await after.vault.online(EXPIRING, '42'), null);
    assert.deepEqual(keyIds(await signIn(storage, after.vault)), ['accessToken:k2', 'user:k2']);
    // A refusal now tries the previous refresh token (k2, openable), then marks: no ERR_DECRYPT.
    emulator.revokeRefreshTokens(EXPIRING, APP.clientId);
    emulator.clock.advance(2 * HOUR);
    const grantsBefore = refreshGrants().length;
    await assert.rejects(after.vault.token(EXPIRING), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal(refreshGrants().length - grantsBefore, 2, 'the current, then the previous refresh token');
    await assert.rejects(after.vault.token(EXPIRING), { code: 'ERR_NEEDS_REAUTH' });
    assert.equal(refreshGrants().length - grantsBefore, 2, 'nothing sent once marked');
    assert.deepEqual(after.events, [{ shop: EXPIRING, reason: 'refresh_token_revoked' }]);
  });

  it('a previous refresh token sealed with a retired key is skipped, never a loop of ERR_DECRYPT', async () => {
    const { emulator, storage, open, refreshGrants } = setup();
    const before = open([K1]);
    await installInto(emulator, before.vault, EXPIRING, { expiring: true });
    emulator.clock.advance(2 * HOUR);
    await before.vault.token(EXPIRING); // refreshed under k1: the previous refresh token is k1's
    assert.deepEqual(keyIds(await storage.get(offlineKey(EXPIRING))), [
      'accessToken:k1',
      'refreshToken:k1',
      'previousRefreshToken:k1',
    ]);
    // k1 retired without any write under k2 in between (an operator in a hurry).
    const after = open([K2]);
    emulator.revokeRefreshTokens(EXPIRING, APP.clientId);
    emulator.clock.advance(2 * HOUR);
    const grantsBefore = refreshGrants().length;
    const first = await after.vault.token(EXPIRING).catch((error: unknown) => error);
    assert.equal((first as { code?: string }).code, 'ERR_NEEDS_REAUTH');
    assert.equal(refreshGrants().length, grantsBefore, 'the current refresh token cannot be opened: nothing sent');
    await assert.rejects(after.vault.token(EXPIRING), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(after.events, [{ shop: EXPIRING, reason: 'key_retired' }]);
    assert.equal((await storage.get(offlineKey(EXPIRING)))?.status, 'needs_reauth');
  });

  it('a non-expiring token sealed only with the retired key: marked key_retired once, the next install heals it', async () => {
    const { emulator, storage, open } = setup();
    const before = open([K1]);
    await installInto(emulator, before.vault, PLAIN);
    const after = open([K2]);
    await assert.rejects(after.vault.token(PLAIN), { code: 'ERR_NEEDS_REAUTH' });
    await assert.rejects(after.vault.token(PLAIN), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(after.events, [{ shop: PLAIN, reason: 'key_retired' }]);
    assert.equal(
      await after.vault.offline(PLAIN),
      null,
      'the install flow sees no usable token and runs the offline leg',
    );
    const healed = await installInto(emulator, after.vault, PLAIN);
    assert.equal(healed.status, 'active');
    assert.deepEqual(keyIds(await storage.get(offlineKey(PLAIN))), ['accessToken:k2']);
    assert.equal(await adminStatus(emulator, PLAIN, (await after.vault.token(PLAIN)).accessToken), 200);
  });
});
