/**
 * vault.token() against the emulator's refresh grant: rotation, lost answers (commit-then-drop over
 * a real socket), revocation, transient faults, and two processes sharing one SQLite file. The
 * emulator's clock and the vault's clock are one; nothing sleeps except two small fault delays.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import type { NeedsReauthEvent } from '../../src/vault/events.ts';
import type { Key } from '../../src/vault/keyring.ts';
import {
  APP,
  inProcessFetch,
  installInto,
  ORIGIN,
  adminStatus as shopAdminStatus,
} from '../helpers/emulator-install.ts';

const SHOP = 'cool-shop.myshopify.com';
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-emulator-refresh-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openTestVault(
  emulator: Emulator,
  options: { storage?: TokenStorage; keys?: Key[]; baseUrl?: string; fetch?: typeof fetch } = {},
) {
  const events: NeedsReauthEvent[] = [];
  const sleeps: number[] = [];
  const vault = openVault({
    storage: options.storage ?? createMemoryStorage(),
    keys: options.keys ?? [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    shopify: {
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      baseUrl: options.baseUrl ?? `${ORIGIN}/{shop}`,
      fetch: options.fetch ?? inProcessFetch(emulator),
    },
    refresh: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
  vault.on('needs_reauth', (event) => {
    events.push(event);
  });
  return { vault, events, sleeps };
}

/** Installs the app on `SHOP` (offline, expiring=1) through the emulator and stores the token. */
const install = (emulator: Emulator, vault: Vault) => installInto(emulator, vault, SHOP, { expiring: true });

/** The HTTP status of an Admin API query made with `accessToken` on `SHOP`. */
const adminStatus = (emulator: Emulator, accessToken: string) => shopAdminStatus(emulator, SHOP, accessToken);

const refreshGrants = (emulator: Emulator) => emulator.grants().filter((grant) => grant.grantType === 'refresh_token');

describe('vault.token through the emulator', () => {
  it('refreshes a token past expiry; the new access token works on the Admin API', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, events } = openTestVault(emulator);
    const first = await install(emulator, vault);
    emulator.clock.advance(HOUR + 1);
    assert.equal(await adminStatus(emulator, first.accessToken), 401);
    const token = await vault.token(SHOP);
    assert.notEqual(token.accessToken, first.accessToken);
    assert.equal(await adminStatus(emulator, token.accessToken), 200);
    assert.equal(refreshGrants(emulator).length, 1);
    assert.deepEqual(events, []);
  });

  it('200 concurrent callers: exactly one refresh grant', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault } = openTestVault(emulator);
    await install(emulator, vault);
    emulator.clock.advance(2 * HOUR);
    const tokens = await Promise.all(Array.from({ length: 200 }, () => vault.token(SHOP)));
    assert.equal(refreshGrants(emulator).length, 1);
    assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
  });

  it('commit-then-drop over a real socket: recovered with the same refresh token, shop not needs_reauth', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const server = await emulator.listen();
    try {
      const { vault, events } = openTestVault(emulator, { baseUrl: emulator.baseUrl(server.origin), fetch });
      await install(emulator, vault);
      emulator.clock.advance(2 * HOUR);
      emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', commitThenDrop: true });
      const token = await vault.token(SHOP);
      const refreshes = emulator.requests().filter((request) => request.grantType === 'refresh_token');
      assert.deepEqual(
        refreshes.map((request) => request.status),
        [0, 200],
      );
      assert.equal(await adminStatus(emulator, token.accessToken), 200);
      assert.deepEqual(events, []);
      // The recovered pair refreshes normally an hour later (its refresh token is the live one).
      emulator.clock.advance(2 * HOUR);
      const later = await vault.token(SHOP);
      assert.equal(await adminStatus(emulator, later.accessToken), 200);
      assert.deepEqual(events, []);
      await vault.close();
    } finally {
      await server.close();
    }
  });

  it('revoked refresh tokens: needs_reauth and the event', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, events } = openTestVault(emulator);
    await install(emulator, vault);
    emulator.revokeRefreshTokens(SHOP, APP.clientId);
    emulator.clock.advance(2 * HOUR);
    await assert.rejects(vault.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(events, [{ shop: SHOP, reason: 'refresh_token_revoked' }]);
  });

  it('503 then success: refreshed; 503 forever: a retryable error and the shop stays usable', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const { vault, events, sleeps } = openTestVault(emulator);
    await install(emulator, vault);
    emulator.clock.advance(2 * HOUR);
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 503 });
    const token = await vault.token(SHOP);
    assert.equal(await adminStatus(emulator, token.accessToken), 200);
    assert.equal(sleeps.length, 1);
    emulator.clock.advance(2 * HOUR);
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 503, times: 4 });
    const error = await vault.token(SHOP).catch((e: unknown) => e);
    assert.equal((error as { retryable?: boolean }).retryable, true);
    assert.notEqual((error as { code?: string }).code, 'ERR_NEEDS_REAUTH');
    assert.deepEqual(events, []);
    const recovered = await vault.token(SHOP);
    assert.equal(await adminStatus(emulator, recovered.accessToken), 200);
  });

  it('two vaults over one SQLite file: one refresh grant; both return its token', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const path = join(dir, 'two-vaults.db');
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const a = openTestVault(emulator, { storage: await openSqliteStorage(path), keys });
    const b = openTestVault(emulator, { storage: await openSqliteStorage(path), keys });
    await install(emulator, a.vault);
    emulator.clock.advance(2 * HOUR);
    // Slow the refresh so that the second process asks while the first holds the lease.
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', delayMs: 100, times: 1 });
    const [fromA, fromB] = await Promise.all([a.vault.token(SHOP), b.vault.token(SHOP)]);
    assert.deepEqual(
      refreshGrants(emulator).map((grant) => grant.status),
      [200],
      'the second process waited for the first one’s pair instead of asking Shopify',
    );
    assert.equal(fromA.accessToken, fromB.accessToken);
    assert.equal(await adminStatus(emulator, fromA.accessToken), 200);
    emulator.clock.advance(2 * HOUR);
    const later = await b.vault.token(SHOP);
    assert.equal(await adminStatus(emulator, later.accessToken), 200);
    assert.deepEqual([...a.events, ...b.events], []);
    await a.vault.close();
    await b.vault.close();
  });
});
