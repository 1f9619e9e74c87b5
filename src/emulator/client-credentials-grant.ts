/**
 * `grant_type=client_credentials` (reference §4): only for a shop whose organization created the
 * app; a 24 h token (86399 s) with no refresh token.
 */

import { compactScopes, parseScopes } from '../protocol/scopes.ts';
import { DAY_TOKEN_TTL_SECONDS, type EmulatorState } from './state.ts';
import { type GrantAnswer, INVALID_CLIENT } from './token-body.ts';

/** Answers a client-credentials request of an authenticated app. */
export function clientCredentialsGrant(state: EmulatorState, domain: string, clientId: string): GrantAnswer {
  const shop = state.shop(domain);
  // Whether Shopify answers exactly this body to an app of another organization is UNCONFIRMED
  // (reference §4: the library's fixture); the status 400 is what clients should key on.
  if (!shop.organizationApps.has(clientId)) return { status: 400, body: INVALID_CLIENT };
  const scopes = shop.installations.get(clientId) ?? compactScopes(parseScopes(state.apps.get(clientId)?.scopes ?? []));
  const accessToken = state.issueClientCredentials(domain, clientId, scopes);
  return {
    status: 200,
    body: { access_token: accessToken, scope: scopes.join(','), expires_in: DAY_TOKEN_TTL_SECONDS },
  };
}
