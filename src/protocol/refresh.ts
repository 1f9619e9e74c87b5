/**
 * The refresh-token grant of expiring offline tokens (shopify-protocol §3.2):
 * `POST {shop}/admin/oauth/access_token` with `grant_type=refresh_token`. Sending
 * ({@link refreshTokenRequest}) and checking ({@link processRefreshTokenResponse}) are separate.
 */

import { UnexpectedResponseError } from '../errors.ts';
import { type OfflineTokenResponse, postToken, processTokenResponse, type TokenEndpoint } from './tokens.ts';

/** The answer to a refresh: always a new pair, with both lifetimes. */
export interface ExpiringOfflineTokenResponse extends OfflineTokenResponse {
  /** Seconds the access token lives (3600 at Shopify). */
  expiresIn: number;
  refreshToken: string;
  /** Seconds the refresh token lives (7776000 = 90 days at Shopify). */
  refreshTokenExpiresIn: number;
}

/**
 * Sends the refresh grant as JSON, the body Shopify's own library sends:
 * `{client_id, client_secret, grant_type: 'refresh_token', refresh_token}`. Network failures
 * (DNS, reset, abort) become a {@link TransportError}; the token is in the body, never in the URL.
 *
 * @example
 * const response = await refreshTokenRequest({ baseUrl: 'https://{shop}', shop, clientId, clientSecret }, refreshToken);
 */
export function refreshTokenRequest(endpoint: TokenEndpoint, refreshToken: string): Promise<Response> {
  return postToken(endpoint, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * Checks the answer to a refresh grant: an {@link OAuthResponseError} for Shopify's error answers
 * (`invalid_grant`, …), and an {@link UnexpectedResponseError} for anything but the expiring
 * offline shape (access token, refresh token and both lifetimes).
 *
 * @example
 * const pair = await processRefreshTokenResponse(await refreshTokenRequest(endpoint, refreshToken));
 */
export async function processRefreshTokenResponse(response: Response): Promise<ExpiringOfflineTokenResponse> {
  const token = await processTokenResponse(response);
  if (token.kind !== 'offline' || token.refreshToken === null) {
    throw new UnexpectedResponseError(response.status, 'refresh response is not an expiring offline token');
  }
  // processTokenResponse refuses a refresh_token without both lifetimes; checked again for the type.
  const { expiresIn, refreshToken, refreshTokenExpiresIn } = token;
  if (expiresIn === null || refreshTokenExpiresIn === null) {
    throw new UnexpectedResponseError(response.status, 'refresh response has no token lifetimes');
  }
  return { ...token, expiresIn, refreshToken, refreshTokenExpiresIn };
}

/**
 * Sends the refresh grant and checks the answer.
 *
 * @example
 * const { accessToken, refreshToken, expiresIn } = await refreshAccessToken(endpoint, storedRefreshToken);
 */
export async function refreshAccessToken(
  endpoint: TokenEndpoint,
  refreshToken: string,
): Promise<ExpiringOfflineTokenResponse> {
  return processRefreshTokenResponse(await refreshTokenRequest(endpoint, refreshToken));
}
