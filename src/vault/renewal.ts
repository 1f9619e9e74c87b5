/**
 * When a client-credentials token is due for renewal: after 80 % of its lifetime, or
 * `max(5 min, marginMs)` before expiry, whichever is earlier. Vault policy: the vault applies it on
 * the request path and stores its result as the row's plain `renewAt`, which the storages index
 * for the keeper (`TokenStorage.due('renew')`) without knowing the rule.
 */

import type { TokenRow } from '../storage/types.ts';

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
 * The `renewAt` to store on a row: for a client-credentials token its renewal time at the minimum
 * margin, in whole milliseconds (rounded down: never late); `null` for every other row. The
 * lifetime counts from `issuedAt`, else `updatedAt`.
 *
 * @example
 * renewAtOf({ ...row, grant: 'client_credentials', issuedAt: 0, expiresAt: 86_399_000 }) // 69_119_200
 */
export function renewAtOf(
  row: Pick<TokenRow, 'kind' | 'grant' | 'issuedAt' | 'updatedAt' | 'expiresAt'>,
): number | null {
  if (row.kind !== 'offline' || row.grant !== 'client_credentials' || row.expiresAt === null) return null;
  return Math.floor(renewalTime(row.issuedAt ?? row.updatedAt, row.expiresAt, 0));
}
