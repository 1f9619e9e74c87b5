/**
 * The Admin client a handler or callback gets: the shop's, once its offline token is valid
 * (refreshed when due), or one whose every request rejects with the reason it cannot be — so the
 * handler still runs, and no state of a token turns a delivery into a server error.
 */

import type { TokenAwareAdminClient } from '../admin/admin.ts';
import { ShoptokenError } from '../errors.ts';
import type { WebhookVault } from './types.ts';

/** The shop's client and `null`, or an unusable client and the error that says why. */
export interface ShopAdmin {
  admin: TokenAwareAdminClient;
  adminError: ShoptokenError | null;
}

/** A client of `shop` whose every request rejects with `error`. */
export function unusableAdmin(shop: string, error: ShoptokenError): ShopAdmin {
  return { admin: { shop, userId: null, request: () => Promise.reject(error) }, adminError: error };
}

/** The shop's Admin client if its offline token can be made valid now, or the reason it cannot. */
export async function shopAdmin(vault: WebhookVault, shop: string): Promise<ShopAdmin> {
  try {
    await vault.token(shop);
    return { admin: vault.admin(shop), adminError: null };
  } catch (error) {
    const reason =
      error instanceof ShoptokenError
        ? error
        : new ShoptokenError('ERR_STORAGE', `the token of ${shop} could not be read`, { cause: error });
    return unusableAdmin(shop, reason);
  }
}
