/**
 * The rows the keeper benchmarks seed: `shops` expiring offline tokens of which `due` are due
 * work, spread evenly and alternating between the keeper's two reasons — an access token expiring
 * in 3 minutes (renew ahead) and an idle shop whose refresh token lapses in 2 days.
 */
import type { TokenRow } from '../src/storage/types.ts';
import { type KeyRing, type TokenField, tokenAad } from '../src/vault/keyring.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The shop of row number `n`. */
export const benchShop = (n: number): string => `bench-${String(n).padStart(6, '0')}.myshopify.com`;

/** 0: renew ahead of access-token expiry; 1: idle, refresh token lapsing; -1: not due. */
export function dueKind(n: number, shops: number, due: number): number {
  const every = Math.floor(shops / due);
  return n % every === 0 && n / every < due ? (n / every) % 2 : -1;
}

/** The sealed row of shop number `n` at `now`. */
export function benchRow(ring: KeyRing, n: number, plan: { shops: number; due: number }, now: number): TokenRow {
  const shop = benchShop(n);
  const seal = (value: string, field: TokenField) =>
    ring.seal(value, tokenAad({ shop, kind: 'offline', userId: '', field }));
  const due = dueKind(n, plan.shops, plan.due);
  return {
    app: '',
    shop,
    kind: 'offline',
    userId: '',
    accessToken: seal(`shpat_seed_${n}`, 'access_token'),
    refreshToken: seal(`shprt_seed_${n}`, 'refresh_token'),
    previousRefreshToken: null,
    user: null,
    scopes: 'write_products',
    associatedUserScopes: null,
    expiresAt: due === 0 ? now + 3 * MINUTE : due === 1 ? now - 30 * DAY : now + 45 * MINUTE,
    refreshTokenExpiresAt: due === 1 ? now + 2 * DAY : now + 60 * DAY,
    renewAt: null,
    createdAt: now,
    updatedAt: now,
    installedAt: now,
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
    migrationStartedAt: null,
    grant: 'authorization_code',
    issuedAt: null,
    authorizedAt: null,
  };
}
