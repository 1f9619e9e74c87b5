/**
 * The authorization request (`/admin/oauth/authorize`), built exactly as Shopify documents it.
 */

import { formatScopes } from './scopes.ts';
import { shopBaseUrl } from './shop.ts';

export interface AuthorizeUrlOptions {
  /** Base-URL template, `https://{shop}` in production. */
  baseUrl: string;
  shop: string;
  clientId: string;
  scopes: readonly string[];
  redirectUri: string;
  state: string;
  /** `true` asks for an online (per-user) token with `grant_options[]=per-user`. */
  perUser: boolean;
}

/**
 * @example
 * authorizeUrl({ baseUrl: 'https://{shop}', shop, clientId, scopes: ['read_products'],
 *   redirectUri: 'https://app.example/auth/callback', state, perUser: false })
 */
export function authorizeUrl(options: AuthorizeUrlOptions): URL {
  const url = new URL(`${shopBaseUrl(options.baseUrl, options.shop)}/admin/oauth/authorize`);
  url.searchParams.set('client_id', options.clientId);
  url.searchParams.set('scope', formatScopes(options.scopes));
  url.searchParams.set('redirect_uri', options.redirectUri);
  url.searchParams.set('state', options.state);
  if (options.perUser) url.searchParams.set('grant_options[]', 'per-user');
  return url;
}
