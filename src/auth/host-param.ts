/**
 * Shopify's `host` parameter: the base64 of the admin host (`admin.shopify.com/store/{name}`, or the
 * legacy `{shop}/admin`) with the `=` padding removed. Embedded apps need it to boot App Bridge, so
 * the flow passes it on to the app — but only when it really is such a value.
 */

const BASE64 = /^[A-Za-z0-9+/]{4,600}={0,2}$/;
const DECODED = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+)(\/[A-Za-z0-9._~-]+)*\/?$/;
// The hosts Shopify's own library accepts (shop-validator.ts).
const ADMIN_SUFFIXES = ['.myshopify.com', '.shopify.com', '.myshopify.io', '.spin.dev', '.shop.dev'];

/**
 * True when `value` is base64 of a Shopify admin host.
 *
 * @example
 * isValidHostParam(Buffer.from('admin.shopify.com/store/cool').toString('base64').replace(/=+$/, '')) // true
 */
export function isValidHostParam(value: string | null): value is string {
  if (value === null || !BASE64.test(value)) return false;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  const match = DECODED.exec(decoded);
  const hostname = match?.[1];
  return hostname !== undefined && ADMIN_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}
