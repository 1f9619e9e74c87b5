/**
 * The client-credentials grant (shopify-protocol §4): `grant_type=client_credentials` with the
 * app's id and secret, for a store of the app's own organization. The answer is a 24 h access token
 * (`expires_in: 86399`) without a refresh token; to renew, repeat the grant. Sending
 * ({@link clientCredentialsRequest}) and checking ({@link processClientCredentialsResponse}) are separate.
 */

import { UnexpectedResponseError } from '../errors.ts';
import { postToken, processTokenResponse, type TokenEndpoint } from './tokens.ts';

/** A client-credentials token as Shopify answers it. */
export interface ClientCredentialsTokenResponse {
  accessToken: string;
  /** Granted scopes; may be empty (`"scope": ""` has been observed). */
  scopes: string[];
  /** Seconds the token lives (86399 at Shopify). */
  expiresIn: number;
}

/**
 * Sends the grant as JSON (`{client_id, client_secret, grant_type: 'client_credentials'}`), as
 * Shopify's own library does. Network failures become a {@link TransportError}.
 *
 * @example
 * const response = await clientCredentialsRequest({ baseUrl: 'https://{shop}', shop, clientId, clientSecret });
 */
export function clientCredentialsRequest(endpoint: TokenEndpoint): Promise<Response> {
  return postToken(endpoint, { grant_type: 'client_credentials' });
}

/**
 * Checks the answer: an {@link OAuthResponseError} for refusals (`invalid_client` for a store of
 * another organization), an {@link UnexpectedResponseError} for anything but an access token with
 * `expires_in` and no refresh token.
 *
 * @example
 * const { accessToken, expiresIn } = await processClientCredentialsResponse(await clientCredentialsRequest(endpoint));
 */
export async function processClientCredentialsResponse(response: Response): Promise<ClientCredentialsTokenResponse> {
  const token = await processTokenResponse(response);
  if (token.kind !== 'offline' || token.refreshToken !== null || token.expiresIn === null) {
    throw new UnexpectedResponseError(response.status, 'client credentials response is not a token with expires_in');
  }
  return { accessToken: token.accessToken, scopes: token.scopes, expiresIn: token.expiresIn };
}

/**
 * Sends the grant and checks the answer.
 *
 * @example
 * const { accessToken, scopes, expiresIn } = await requestClientCredentials(endpoint);
 */
export async function requestClientCredentials(endpoint: TokenEndpoint): Promise<ClientCredentialsTokenResponse> {
  return processClientCredentialsResponse(await clientCredentialsRequest(endpoint));
}
