/**
 * The full check of a Shopify-signed query (an install request or an OAuth callback): shop domain,
 * HMAC and timestamp freshness, in that order, with one failing check reported by a stable code.
 */

import type { ErrorCode } from '../errors.ts';
import { type QueryInput, verifyQueryHmac } from './hmac.ts';
import { normalizeShop } from './shop.ts';

/** Shopify's libraries accept a `timestamp` at most this far from now. */
export const TIMESTAMP_TOLERANCE_SECONDS = 90;

export type SignedQueryResult =
  | { ok: true; shop: string; params: URLSearchParams }
  | { ok: false; code: ErrorCode; message: string };

export interface SignedQueryOptions {
  /** Client secrets, current first. */
  secrets: readonly string[];
  /** Now, in milliseconds since the epoch. */
  now: number;
  toleranceSeconds?: number;
}

/**
 * Checks `query` as Shopify signs it. Never throws for bad input.
 *
 * @example
 * const r = verifySignedQuery(url.searchParams, { secrets: [secret], now: Date.now() });
 * if (!r.ok) return new Response(r.message, { status: 400 });
 */
export function verifySignedQuery(query: QueryInput, options: SignedQueryOptions): SignedQueryResult {
  const params =
    query instanceof URLSearchParams ? query : new URLSearchParams(typeof query === 'string' ? query : undefined);
  if (!(query instanceof URLSearchParams) && typeof query !== 'string') {
    for (const key of Object.keys(query)) {
      const value = query[key];
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) params.append(key, v);
    }
  }
  const shops = params.getAll('shop');
  const shop = shops.length === 1 ? normalizeShop(shops[0]) : null;
  if (!shop)
    return { ok: false, code: 'ERR_INVALID_SHOP', message: 'the shop parameter is not a valid myshopify.com domain' };
  if (!verifyQueryHmac(params, options.secrets)) {
    return { ok: false, code: 'ERR_INVALID_HMAC', message: 'the request signature (hmac) is missing or invalid' };
  }
  const timestamp = params.get('timestamp');
  const seconds = timestamp !== null && /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  const tolerance = options.toleranceSeconds ?? TIMESTAMP_TOLERANCE_SECONDS;
  if (!Number.isFinite(seconds) || Math.abs(options.now / 1000 - seconds) > tolerance) {
    return { ok: false, code: 'ERR_STALE_TIMESTAMP', message: 'the request timestamp is missing or too far from now' };
  }
  return { ok: true, shop, params };
}
