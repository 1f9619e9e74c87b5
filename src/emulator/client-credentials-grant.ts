/**
 * `grant_type=client_credentials` (reference §4): "only available for apps developed by your own
 * organization and installed in stores that you own". A 24 h token (86399 s) with no refresh
 * token, carrying the installation's scopes.
 */

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
  const scopes = shop.installations.get(clientId);
  // UNCONFIRMED (reference §4): the docs require the app to be installed on the store ("installed
  // in stores that you own"; installing it is a prerequisite) but do not say how Shopify refuses a
  // store of the organization where it is not. `shop_not_permitted` is the safe reading: it is the
  // refusal Shopify uses for a store the grant cannot act on, and a client classifies it as
  // terminal for this one shop (§3.6) — never as the app's credentials failing (`invalid_client`
  // would stop every shop) and never as transient (a 5xx or 404 would be retried forever).
  if (scopes === undefined) return SHOP_NOT_PERMITTED;
  const accessToken = state.issueClientCredentials(domain, clientId, [...scopes]);
  return {
    status: 200,
    body: { access_token: accessToken, scope: scopes.join(','), expires_in: DAY_TOKEN_TTL_SECONDS },
  };
}
