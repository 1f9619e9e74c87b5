/**
 * Shopify's query-string HMAC (OAuth callbacks, install requests, app launches).
 *
 * Message: every parameter except `hmac` (and `signature`, which belongs to app proxies), sorted by
 * key, each `key=value` with the value percent-encoded as `URLSearchParams` does but with spaces as
 * `%20`, joined with `&`; repeated keys are joined into one comma-separated value. Digest:
 * HMAC-SHA256 keyed with the client secret, lower-case hex.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameters as Shopify sends them: a query string, a `URLSearchParams`, or a plain record. */
export type QueryInput = string | URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

const EXCLUDED = new Set(['hmac', 'signature']);

function toEntries(query: QueryInput): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  };
  if (typeof query === 'string' || query instanceof URLSearchParams) {
    const params =
      typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
    for (const [key, value] of params) add(key, value);
  } else {
    for (const key of Object.keys(query)) {
      const value = query[key];
      if (value === undefined) continue;
      if (typeof value === 'string') add(key, value);
      else for (const v of value) add(key, v);
    }
  }
  return out;
}

/** Percent-encodes like `URLSearchParams.toString()`, but with `%20` for spaces. */
function encode(value: string): string {
  // encodeURIComponent leaves !'()*~ unescaped; the form encoding URLSearchParams uses escapes all but *.
  return encodeURIComponent(value).replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The exact string Shopify signs for `query`. Exposed for tests and the emulator. */
export function querySignatureMessage(query: QueryInput): string {
  const entries = toEntries(query);
  const keys = [...entries.keys()].filter((key) => !EXCLUDED.has(key)).sort();
  let message = '';
  for (const key of keys) {
    if (message) message += '&';
    message += `${encode(key)}=${encode((entries.get(key) ?? []).join(','))}`;
  }
  return message;
}

/** Computes the hex HMAC Shopify would put in `hmac` for `query`. Used by the emulator and tests. */
export function signQuery(query: QueryInput, secret: string): string {
  return createHmac('sha256', secret).update(querySignatureMessage(query)).digest('hex');
}

const HEX_64 = /^[0-9a-f]{64}$/i;

/**
 * Constant-time check of a hex HMAC against the message for every secret in `secrets` (current
 * secret first, then any being rotated out). Returns false for a missing or malformed `hmac`.
 */
export function verifyHexHmac(message: string, hmac: unknown, secrets: readonly string[]): boolean {
  if (typeof hmac !== 'string' || !HEX_64.test(hmac)) return false;
  const given = Buffer.from(hmac, 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(message).digest();
    // Evaluate every secret so the time taken does not tell which one matched.
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** Verifies the `hmac` parameter of a Shopify-signed query. */
export function verifyQueryHmac(query: QueryInput, secrets: readonly string[]): boolean {
  const entries = toEntries(query);
  const hmac = entries.get('hmac');
  if (hmac?.length !== 1) return false;
  return verifyHexHmac(querySignatureMessage(query), hmac[0], secrets);
}
