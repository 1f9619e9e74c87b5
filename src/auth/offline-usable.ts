/**
 * Whether a shop's stored offline token can still serve the app. One rule for the auth path (which
 * leg to run) and for protected pages (serve the session, or send the browser to re-authorize).
 */

import { ShoptokenError } from '../errors.ts';
import { verifyCustomToken } from '../vault/custom-token.ts';
import type { OfflineToken } from '../vault/types.ts';
import type { AuthRuntime } from './options.ts';

/** How long the sign-in waits for Shopify's answer about the stored token before going on without it. */
const PROBE_TIMEOUT_MS = 5000;

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

/**
 * Whether Shopify still accepts the shop's stored offline token, asked once per sign-in (one Admin
 * API query). An uninstall revokes it at once, and `app/uninstalled` may arrive late or never: a
 * refusal means the app was uninstalled — the token is marked (`admin_unauthorized`) and the
 * sign-in becomes a new install (its offline leg, then `afterAuth` again). When Shopify cannot be
 * asked (down, slow), the token is taken as it is: the sign-in is not held up.
 */
export async function stillInstalled(rt: AuthRuntime, shop: string, offline: OfflineToken): Promise<boolean> {
  try {
    await verifyCustomToken({
      shop,
      accessToken: offline.accessToken,
      baseUrl: rt.options.shopifyBaseUrl,
      fetch: rt.fetch ?? fetch,
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    return true;
  } catch (error) {
    if (!(error instanceof ShoptokenError) || error.code !== 'ERR_TOKEN_REJECTED') return true;
    await rt.vault.markNeedsReauth?.(shop, 'admin_unauthorized', offline.accessToken);
    return false;
  }
}
