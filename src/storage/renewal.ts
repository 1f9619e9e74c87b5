/**
 * When a client-credentials token is due for renewal: after 80 % of its lifetime, or
 * `max(5 min, marginMs)` before expiry, whichever is earlier. The rule lives with the storages
 * because they index it to find due rows (`TokenStorage.dueCredentials`; SQLite computes the same
 * value in its index expression, so changing a constant here needs a new index); the vault applies
 * it on the request path.
 */

import type { TokenRow } from './types.ts';

/** The share of a client-credentials token's lifetime after which it is renewed. */
export const RENEW_AT_FRACTION = 0.8;
/** A client-credentials token is renewed at the latest this long before it expires. */
export const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * @example
 * renewalTime(0, 86_399_000, 300_000) // 69_119_200: 80 % of 24 h comes before 5 min before expiry
 */
export function renewalTime(issuedAt: number, expiresAt: number, marginMs: number): number {
  const fraction = issuedAt + (expiresAt - issuedAt) * RENEW_AT_FRACTION;
  return Math.min(fraction, expiresAt - Math.max(RENEW_BEFORE_MS, marginMs));
}

/**
 * The renewal time of a client-credentials row at the minimum margin, or `null` for a row without
 * an expiry. The lifetime counts from `issuedAt`, else `updatedAt` (as the vault reads it).
 *
 * @example
 * credentialsRenewalAt({ ...row, issuedAt: 0, expiresAt: 86_399_000 }) // 69_119_200
 */
export function credentialsRenewalAt(row: TokenRow): number | null {
  if (row.expiresAt === null) return null;
  return renewalTime(row.issuedAt ?? row.updatedAt, row.expiresAt, 0);
}
