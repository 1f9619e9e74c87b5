/**
 * Shopify's session ids and the vault rows they name. `@shopify/shopify-api` builds them as
 * `offline_{shop}` for a shop's offline session and `{shop}_{userId}` for an embedded app's online
 * session (the user id is the session token's `sub`); a non-embedded app's online session gets a
 * random UUID instead (kept in a signed cookie), which names no row by itself: see `aliases.ts`.
 */

import { isShopDomain } from '../protocol/shop.ts';

/** The vault row a session id names: a shop's offline token, or one user's online token. */
export type SessionKey = { kind: 'offline'; shop: string } | { kind: 'online'; shop: string; userId: string };

const OFFLINE = /^offline_(.+)$/;
/** A shop domain has no `_`, so the first `_` after `.myshopify.com` starts the user id. */
const ONLINE = /^([a-z0-9][a-z0-9-]*\.myshopify\.com)_(\d{1,20})$/;

/** Shopify's id of a shop's offline session. */
export const offlineSessionId = (shop: string): string => `offline_${shop}`;

/** Shopify's id of an embedded app's online session. */
export const onlineSessionId = (shop: string, userId: string): string => `${shop}_${userId}`;

/**
 * The row a Shopify session id names, or `null` for any other id (a non-embedded online session's
 * random id, a malformed one).
 *
 * @example
 * parseSessionId('offline_cool-shop.myshopify.com') // { kind: 'offline', shop: 'cool-shop.myshopify.com' }
 * parseSessionId('cool-shop.myshopify.com_42') // { kind: 'online', shop: 'cool-shop.myshopify.com', userId: '42' }
 */
export function parseSessionId(id: unknown): SessionKey | null {
  if (typeof id !== 'string' || id.length > 300) return null;
  const offline = OFFLINE.exec(id);
  if (offline) return isShopDomain(offline[1]) ? { kind: 'offline', shop: offline[1] } : null;
  const online = ONLINE.exec(id);
  if (online && isShopDomain(online[1])) return { kind: 'online', shop: online[1], userId: online[2]! };
  return null;
}
