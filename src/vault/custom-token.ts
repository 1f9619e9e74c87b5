/**
 * Verifying a custom app's static token (shopify-protocol §5) before the vault stores it: one Admin
 * API query, `currentAppInstallation { accessScopes { handle } }`, made with the token through
 * Shopify's own client ({@link adminClient}). The answer gives the token's scopes; a token Shopify
 * does not accept is rejected. The token's format is not checked (prefixes and lengths vary, §5).
 */

import { adminClient } from '../admin/client.ts';
import { ShoptokenError, TransportError, UnexpectedResponseError } from '../errors.ts';

/** The query that proves a token works and tells its scopes. */
export const ACCESS_SCOPES_QUERY = '{ currentAppInstallation { accessScopes { handle } } }';

/** What a verification needs. */
export interface CustomTokenCheck {
  shop: string;
  accessToken: string;
  /** Base-URL template of the shop's admin host (`https://{shop}` in production). */
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The scope handles in a GraphQL answer, or null when it is not the expected shape. */
function scopesOf(body: unknown): string[] | null {
  if (!isRecord(body) || !isRecord(body.data) || !isRecord(body.data.currentAppInstallation)) return null;
  const scopes = body.data.currentAppInstallation.accessScopes;
  if (!Array.isArray(scopes)) return null;
  const handles = scopes.map((scope) => (isRecord(scope) ? scope.handle : undefined));
  return handles.every((handle): handle is string => typeof handle === 'string' && /^[^\s,]+$/.test(handle))
    ? handles
    : null;
}

/**
 * The token's granted scopes, if Shopify accepts it. Throws a ShoptokenError `ERR_TOKEN_REJECTED`
 * when the Admin API refuses it (401, 403, 404 or GraphQL errors), a retryable error when Shopify
 * could not be reached or answered 429/5xx. Messages never hold the token.
 *
 * @example
 * const scopes = await verifyCustomToken({ shop, accessToken, baseUrl: 'https://{shop}', fetch, timeoutMs: 10_000 });
 */
export async function verifyCustomToken(check: CustomTokenCheck): Promise<string[]> {
  const { shop } = check;
  const client = adminClient({
    shop,
    accessToken: check.accessToken,
    shopifyBaseUrl: check.baseUrl,
    fetch: check.fetch,
  });
  let response: Response;
  let body: unknown;
  try {
    response = await client.fetch(ACCESS_SCOPES_QUERY, { signal: AbortSignal.timeout(check.timeoutMs) });
    body = response.ok ? await response.json() : undefined;
  } catch (cause) {
    throw new TransportError(`could not verify the token with the Admin API of ${shop}`, cause);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new UnexpectedResponseError(response.status, `the Admin API of ${shop} answered HTTP ${response.status}`);
  }
  const scopes = response.ok ? scopesOf(body) : null;
  if (!scopes) {
    throw new ShoptokenError(
      'ERR_TOKEN_REJECTED',
      `the Admin API of ${shop} did not accept the token (HTTP ${response.status}); nothing was stored`,
    );
  }
  return scopes;
}
