/**
 * The migration of a non-expiring offline token to an expiring pair (shopify-protocol §3.3): a token
 * exchange with the old token as the subject and `expiring=1`. Irreversible at Shopify: the old token
 * is revoked once the exchange succeeds, and for 7 days a retry with the same old token answers the
 * same pair. Sending ({@link migrationExchangeRequest}) and checking ({@link processRefreshTokenResponse},
 * the answer has the refresh grant's shape) are separate.
 */

import { type ExpiringOfflineTokenResponse, processRefreshTokenResponse } from './refresh.ts';
import { postToken, type TokenEndpoint } from './tokens.ts';

/** The token-exchange grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The subject and requested token type of a migration. */
export const OFFLINE_ACCESS_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:offline-access-token';

/**
 * Sends the migration exchange as JSON, like the other grants: `{client_id, client_secret,
 * grant_type, subject_token, subject_token_type, requested_token_type, expiring: '1'}`. Network
 * failures become a {@link TransportError}; the token is in the body, never in the URL.
 *
 * @example
 * const response = await migrationExchangeRequest(endpoint, nonExpiringToken);
 */
export function migrationExchangeRequest(endpoint: TokenEndpoint, nonExpiringToken: string): Promise<Response> {
  return postToken(endpoint, {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: nonExpiringToken,
    subject_token_type: OFFLINE_ACCESS_TOKEN_TYPE,
    requested_token_type: OFFLINE_ACCESS_TOKEN_TYPE,
    expiring: '1',
  });
}

/**
 * Sends the migration exchange and checks the answer: the expiring pair, an
 * {@link OAuthResponseError} for Shopify's refusals (`invalid_subject_token` for an uninstalled shop
 * or an unknown token), an {@link UnexpectedResponseError} for any other shape.
 *
 * @example
 * const { accessToken, refreshToken, expiresIn } = await migrateToExpiringToken(endpoint, nonExpiringToken);
 */
export async function migrateToExpiringToken(
  endpoint: TokenEndpoint,
  nonExpiringToken: string,
): Promise<ExpiringOfflineTokenResponse> {
  return processRefreshTokenResponse(await migrationExchangeRequest(endpoint, nonExpiringToken));
}
