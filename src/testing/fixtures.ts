/**
 * Rows and helpers the conformance battery uses: every test writes under an app id of its own, so
 * the battery can run against a database other runs (and other tests) share, and cleans up after.
 */

import { randomUUID } from 'node:crypto';
import type { TokenKey, TokenRow, TokenStorage } from '../storage/types.ts';

/** Opens a connection to the store under test. */
export type StorageFactory = () => TokenStorage | Promise<TokenStorage>;

/** An app id no other test uses. */
export const uniqueApp = (): string => `conformance-${randomUUID()}`;

/** A sealed-looking value: the store must treat it as opaque text. */
export const sealed = (what: string): string => `v1.k1.${what}`;

/** An expiring offline row of `app` for `shop`, with `overrides`. */
export function offlineRow(app: string, shop: string, overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    app,
    shop,
    kind: 'offline',
    userId: '',
    accessToken: sealed('access-1'),
    refreshToken: sealed('refresh-1'),
    previousRefreshToken: null,
    user: null,
    scopes: 'read_products',
    associatedUserScopes: null,
    expiresAt: 10_000,
    refreshTokenExpiresAt: 1_000_000,
    renewAt: null,
    createdAt: 1000,
    updatedAt: 1000,
    installedAt: null,
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
    migrationStartedAt: null,
    grant: 'authorization_code',
    issuedAt: null,
    authorizedAt: null,
    ...overrides,
  };
}

/** An online row of `app` for `shop` and user `userId` (default `42`). */
export function onlineRow(app: string, shop: string, overrides: Partial<TokenRow> = {}): TokenRow {
  return offlineRow(app, shop, {
    kind: 'online',
    userId: '42',
    refreshToken: null,
    user: sealed('user'),
    associatedUserScopes: 'read_products',
    refreshTokenExpiresAt: null,
    ...overrides,
  });
}

/** The row a refresh writes from `from`: new values (numbered `n`), the used token kept as previous. */
export function refreshedRow(from: TokenRow, n: number): TokenRow {
  return {
    ...from,
    accessToken: sealed(`access-${n}`),
    refreshToken: sealed(`refresh-${n}`),
    previousRefreshToken: from.refreshToken,
    expiresAt: 10_000 * n,
    refreshTokenExpiresAt: 1_000_000 * n,
    updatedAt: 1000 * n,
  };
}

/** The key of the offline row of (app, shop). */
export const offlineKey = (app: string, shop: string): TokenKey => ({ app, shop, kind: 'offline', userId: '' });

/** The key of an online row. */
export const onlineKey = (app: string, shop: string, userId = '42'): TokenKey => ({
  app,
  shop,
  kind: 'online',
  userId,
});

/**
 * Opens a storage, runs `test` with it and a fresh app id, then deletes every row of that app the
 * test wrote (shops listed through `list`) and closes the storage.
 */
export async function withStorage(
  open: StorageFactory,
  test: (storage: TokenStorage, app: string) => Promise<void>,
): Promise<void> {
  const storage = await open();
  const app = uniqueApp();
  try {
    await test(storage, app);
  } finally {
    try {
      const shops = new Set((await storage.list({ app, limit: 10_000 })).map((row) => row.shop));
      for (const shop of shops) await storage.deleteShop(app, shop);
    } catch {
      // A test that closed its storage, or a backend that failed: nothing more to clean.
    }
    await storage.close().catch(() => undefined);
  }
}
