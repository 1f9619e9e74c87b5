/**
 * What the vault writes on a shop's offline row when a token request fails: `needs_reauth` for
 * Shopify's final refusal of the shop's token (with the event, once), or a failure count and a
 * value-free description for anything else. Both are compare-and-sets on what the row holds (its
 * refresh token, else its access token), so a newer token stored meanwhile is never touched.
 */

import { OAuthResponseError, ShoptokenError } from '../errors.ts';
import type { TokenFailure } from '../protocol/token-failure.ts';
import type { TokenRow } from '../storage/types.ts';
import type { GrantContext } from './context.ts';
import type { NeedsReauthReason } from './events.ts';

/** The error for a shop whose offline token cannot be used or refreshed any more. */
export function needsReauthError(shop: string, why: string): ShoptokenError {
  return new ShoptokenError('ERR_NEEDS_REAUTH', `${shop} must authorize the app again: ${why}`);
}

/** The reason to mark a shop for a `shop_terminal` failure. */
export function needsReauthReason(failure: TokenFailure): NeedsReauthReason {
  switch (failure.error) {
    case 'invalid_grant':
    case 'shop_not_permitted':
    case 'invalid_subject_token':
      return failure.error;
    default:
      // `401 invalid_request` "This request requires an active refresh_token".
      return 'refresh_token_revoked';
  }
}

const WHY: Record<NeedsReauthReason, string> = {
  refresh_token_revoked:
    'Shopify no longer accepts its refresh token (revoked by an uninstall, rotated away or lapsed)',
  invalid_grant: 'Shopify refused its refresh token (invalid_grant)',
  shop_not_permitted: 'Shopify does not permit client credentials on this store any more (shop_not_permitted)',
  invalid_subject_token: 'Shopify refused its offline token (invalid_subject_token)',
  refresh_token_expired: 'the refresh token expired',
  admin_unauthorized: 'the Admin API refused its offline token after a refresh',
  key_retired: 'its stored token was sealed with an encryption key that is no longer configured',
};

/** A sentence for `reason`, for error messages. */
export function describeReason(reason: NeedsReauthReason): string {
  return WHY[reason];
}

/** A short, value-free description of a failed grant, stored in `lastRefreshError`. */
export function describeFailure(error: ShoptokenError): string {
  if (error instanceof OAuthResponseError) return `${error.error.replace(/[^\w.-]/g, '')} (HTTP ${error.status})`;
  return 'status' in error ? `${error.code} (HTTP ${String(error.status)})` : error.code;
}

/**
 * Marks the shop `needs_reauth` unless the row changed (or is marked already); emits `needs_reauth`
 * when this call marked it. `row` may carry other changes to write with the mark.
 */
export async function markNeedsReauth(
  context: Pick<GrantContext, 'records' | 'now' | 'events'>,
  row: TokenRow,
  reason: NeedsReauthReason,
): Promise<boolean> {
  if (row.status === 'needs_reauth') return false;
  const marked = await context.records.swap(row, {
    ...row,
    status: 'needs_reauth',
    refreshFailures: row.refreshFailures + 1,
    lastRefreshError: reason,
    updatedAt: context.now(),
  });
  if (marked) context.events.emit('needs_reauth', { shop: row.shop, reason });
  return marked !== null;
}

/** Counts a failure that is not the shop's fault on the row (if it did not change); the shop stays active. */
export async function noteFailure(
  context: Pick<GrantContext, 'records' | 'now'>,
  row: TokenRow,
  error: ShoptokenError,
): Promise<void> {
  await context.records.swap(row, {
    ...row,
    refreshFailures: row.refreshFailures + 1,
    lastRefreshError: describeFailure(error),
    updatedAt: context.now(),
  });
}
