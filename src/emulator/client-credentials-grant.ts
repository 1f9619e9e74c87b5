/**
 * `grant_type=client_credentials` (reference §4): only for a shop whose organization created the
 * app; a 24 h token (86399 s) with no refresh token.
 */

import { compactScopes, parseScopes } from '../protocol/scopes.ts';
import { DAY_TOKEN_TTL_SECONDS, type EmulatorState } from './state.ts';
import type { GrantAnswer } from './token-body.ts';

/**
 * The refusal of client credentials on a store outside the app's organization: the error Shopify's
 * docs quote ("Oauth error shop_not_permitted: Client credentials cannot be performed on this
 * shop.") as a JSON body, with HTTP 400, the status usually observed (reference §4).
 */
export const SHOP_NOT_PERMITTED: GrantAnswer = {
  status: 400,
  body: { error: 'shop_not_permitted', error_description: 'Client credentials cannot be performed on this shop.' },
};

/** Answers a client-credentials request of an authenticated app. */
export function clientCredentialsGrant(state: EmulatorState, domain: string, clientId: string): GrantAnswer {
  const shop = state.shop(domain);
  if (!shop.organizationApps.has(clientId)) return SHOP_NOT_PERMITTED;
  const scopes = shop.installations.get(clientId) ?? compactScopes(parseScopes(state.apps.get(clientId)?.scopes ?? []));
  const accessToken = state.issueClientCredentials(domain, clientId, scopes);
  return {
    status: 200,
    body: { access_token: accessToken, scope: scopes.join(','), expires_in: DAY_TOKEN_TTL_SECONDS },
  };
}
