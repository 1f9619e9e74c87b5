/**
 * An Admin GraphQL client for one shop and one access token, built on Shopify's own
 * `@shopify/admin-api-client`. The only difference from a plain client is the base-URL template:
 * the same code reaches `https://{shop}` in production and the local emulator in tests and demos.
 */

import { type AdminApiClient, createAdminApiClient } from '@shopify/admin-api-client';
import { DEFAULT_SHOPIFY_BASE_URL, shopBaseUrl } from '../protocol/shop.ts';

/** The Admin API version shoptoken speaks by default. */
export const DEFAULT_API_VERSION = '2026-10';

export interface AdminClientOptions {
  shop: string;
  accessToken: string;
  /** Base-URL template; default `https://{shop}`. */
  shopifyBaseUrl?: string;
  apiVersion?: string;
  fetch?: typeof fetch;
}

/**
 * @example
 * const admin = adminClient({ shop, accessToken: offline.accessToken });
 * const { data, errors } = await admin.request('{ shop { name } }');
 */
export function adminClient(options: AdminClientOptions): AdminApiClient {
  const template = options.shopifyBaseUrl ?? DEFAULT_SHOPIFY_BASE_URL;
  const doFetch = options.fetch ?? fetch;
  const shopifyOrigin = `https://${options.shop}`;
  const target = shopBaseUrl(template, options.shop);
  return createAdminApiClient({
    storeDomain: options.shop,
    apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
    accessToken: options.accessToken,
    customFetchApi: (url, init) => {
      const href = String(url);
      const rewritten = href.startsWith(shopifyOrigin) ? `${target}${href.slice(shopifyOrigin.length)}` : href;
      return doFetch(rewritten, init as RequestInit);
    },
  });
}
