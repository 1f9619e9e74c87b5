/**
 * What Shopify tells the vault about a shop's install from outside a grant: the app was uninstalled
 * (`app/uninstalled`), or its granted scopes changed (`app/scopes_update`). Both are delivered late
 * at times — Shopify retries for hours — so each is applied only when it is newer than what the
 * vault holds.
 */

import { formatScopes, parseScopes } from '../protocol/scopes.ts';
import type { GrantContext } from './context.ts';

/** What {@link applyUninstall} did. */
export interface UninstallOutcome {
  /** How many of the shop's rows were deleted (offline, client credentials, every user's online token). */
  deleted: number;
  /**
   * True when the rows were kept because the shop's offline token comes from an authorization made
   * after the uninstall (a reinstall that a late delivery must not undo).
   */
  reinstalled: boolean;
}

/**
 * Deletes every token of `shop` for an uninstall Shopify triggered at `triggeredAt` (epoch ms; `null`
 * when the delivery did not say) — unless the offline token was authorized after it. Runs as the
 * shop's offline grant (see `withOfflineGrant`), so an install finishing at the same time either
 * stored its token first (then it is kept) or stores it after the deletion.
 */
export function applyUninstall(ctx: GrantContext, shop: string, triggeredAt: number | null): Promise<UninstallOutcome> {
  return ctx.coordinator.serialize('grant', shop, async () => {
    const row = await ctx.records.offline(shop);
    const authorizedAt = row?.authorizedAt ?? null;
    if (authorizedAt !== null && triggeredAt !== null && authorizedAt > triggeredAt) {
      return { deleted: 0, reinstalled: true };
    }
    return { deleted: await ctx.records.deleteShop(shop), reinstalled: false };
  });
}

/** How many times a scope update is tried against concurrent writes of the row (refreshes). */
const SCOPE_UPDATE_TRIES = 5;

/**
 * Stores `scopes` as the scopes granted on the shop's offline token, unless the token was
 * authorized after the change (`updatedAt`, epoch ms; `null` when unknown). A compare-and-set on the
 * access token, tried again when a refresh wrote in between. True when it wrote.
 */
export async function applyScopes(
  ctx: GrantContext,
  shop: string,
  scopes: readonly string[],
  updatedAt: number | null,
): Promise<boolean> {
  const formatted = formatScopes(parseScopes(scopes));
  for (let attempt = 0; attempt < SCOPE_UPDATE_TRIES; attempt++) {
    const row = await ctx.records.offline(shop);
    if (!row || row.scopes === formatted) return false;
    // A token authorized after the change was granted the scopes of that authorization already.
    if (updatedAt !== null && row.authorizedAt !== null && row.authorizedAt > updatedAt) return false;
    const next = { ...row, scopes: formatted, updatedAt: ctx.now() };
    if (await ctx.records.swap(row, next)) return true;
  }
  return false;
}
