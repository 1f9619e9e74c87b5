/**
 * Shop domains. Shopify's authorization server for a store is the store's own host,
 * `{name}.myshopify.com`, so a shop domain decides where tokens and codes are sent: it must be
 * exactly a myshopify host, with no scheme, port, path, userinfo or other suffix.
 */

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
const MAX_SHOP_LENGTH = 255;

/**
 * Returns the canonical (lower-case) shop domain, or `null` when the input is not exactly
 * `{name}.myshopify.com`.
 *
 * @example
 * normalizeShop('Cool-Shop.myshopify.com') // 'cool-shop.myshopify.com'
 * normalizeShop('evil.com/.myshopify.com') // null
 */
export function normalizeShop(input: unknown): string | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_SHOP_LENGTH) return null;
  const shop = input.toLowerCase();
  return SHOP_DOMAIN.test(shop) ? shop : null;
}

/** True when `input` is already a canonical shop domain. */
export function isShopDomain(input: unknown): input is string {
  return typeof input === 'string' && input.length <= MAX_SHOP_LENGTH && SHOP_DOMAIN.test(input);
}

/** The placeholder that {@link shopBaseUrl} replaces in a base-URL template. */
export const SHOP_PLACEHOLDER = '{shop}';

/** Shopify itself: every shop is its own host. */
export const DEFAULT_SHOPIFY_BASE_URL = 'https://{shop}';

/**
 * The base URL of a shop's admin host, from a template such as `https://{shop}` (production) or
 * `http://127.0.0.1:4010/{shop}` (the local emulator). No trailing slash.
 */
export function shopBaseUrl(template: string, shop: string): string {
  return template.replace(SHOP_PLACEHOLDER, shop).replace(/\/+$/, '');
}

/** Checks a base-URL template when configuration is built; returns a problem or `null`. */
export function checkBaseUrlTemplate(template: string): string | null {
  if (!template.includes(SHOP_PLACEHOLDER)) return `must contain ${SHOP_PLACEHOLDER}`;
  let url: URL;
  try {
    url = new URL(template.replace(SHOP_PLACEHOLDER, 'example.myshopify.com'));
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http(s)';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return null;
}
