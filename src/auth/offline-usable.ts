/**
 * Whether a shop's stored offline token can still serve the app. One rule for the auth path (which
 * leg to run) and for protected pages (serve the session, or send the browser to re-authorize).
 */

import type { OfflineToken } from '../vault/types.ts';

/**
 * True when the offline token cannot be used or renewed without the merchant: Shopify refused it
 * for good (`status: 'needs_reauth'`: revoked, uninstalled, refresh refused), or, for a token from
 * the install flow, it expired without a refresh token, or its refresh token lapsed. A client-
 * credentials token is renewed by the vault and a custom app's token never expires, so only their
 * status counts.
 *
 * @example
 * if (offline && needsReauth(offline, Date.now())) return redirect(authUrl(shop)); // the offline leg runs
 */
export function needsReauth(offline: OfflineToken, now: number): boolean {
  if (offline.status === 'needs_reauth') return true;
  if (offline.grant !== 'authorization_code') return false;
  const lapsed = (at: Date | null) => at !== null && at.getTime() <= now;
  return offline.expiring ? lapsed(offline.refreshTokenExpiresAt) : lapsed(offline.expiresAt);
}
