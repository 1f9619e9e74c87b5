/**
 * What a failed request to Shopify's token endpoint means (shopify-protocol §3.6): one pure
 * function that reads the HTTP status and the OAuth `error` together, per grant, and says who is at
 * fault and what to do. Every caller (the install flow, refresh, client credentials, migration)
 * decides from it, so a refusal means the same thing everywhere.
 *
 * | class              | answers                                                              | what to do                                   |
 * |--------------------|----------------------------------------------------------------------|----------------------------------------------|
 * | `shop_terminal`    | refresh `401 invalid_request` ("…requires an active refresh_token"), | stop; the shop must authorize the app again  |
 * |                    | any `invalid_grant`, `shop_not_permitted`, `invalid_subject_token`   |                                              |
 * |                    | on a migration exchange                                              |                                              |
 * | `request_terminal` | a refused authorization code; `invalid_subject_token` on an ID-token | this one request cannot succeed; start again |
 * |                    | exchange                                                             | with a fresh code or session token           |
 * | `app_credentials`  | `invalid_client` on any grant                                        | the app's credentials are wrong: mark no shop|
 * | `ambiguous`        | `404`; any other 4xx not documented for the grant                    | long backoff, report, never mark             |
 * | `transient`        | `429`, `5xx` (incl. `520`), timeouts, resets                         | retry the same request with backoff          |
 * | `malformed`        | a 2xx whose body is not the documented shape (e.g. no `expires_in`)  | store nothing, keep what was there           |
 */

import { OAuthResponseError, TransportError, UnexpectedResponseError } from '../errors.ts';

/** The grant a token-endpoint request was for. */
export type TokenGrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  /** A non-expiring offline token exchanged for an expiring pair (§3.3). */
  | 'migration'
  /** An embedded app's session token exchanged for an access token (§2). */
  | 'id_token_exchange';

/** Who is at fault for a failed token request, and so what to do (see the module's table). */
export type TokenFailureClass =
  | 'shop_terminal'
  | 'request_terminal'
  | 'app_credentials'
  | 'ambiguous'
  | 'transient'
  | 'malformed';

/** A classified failure. Holds no token, code or secret. */
export interface TokenFailure {
  kind: TokenFailureClass;
  /** HTTP status, or `null` when no answer came (transport failure). */
  status: number | null;
  /** Shopify's OAuth `error` value, or `null`. */
  error: string | null;
  /** A short, value-free description for logs and the row: `invalid_request (HTTP 401)`, `ERR_TRANSPORT`. */
  reason: string;
}

/** The description Shopify gives a dead (rotated, revoked or lapsed) refresh token [OBS §3.2]. */
const DEAD_REFRESH_TOKEN = /active refresh_token/i;

function failure(kind: TokenFailureClass, status: number | null, error: string | null): TokenFailure {
  const reason =
    status === null
      ? 'ERR_TRANSPORT'
      : error === null
        ? `HTTP ${status}`
        : `${error.replace(/[^\w.-]/g, '')} (HTTP ${status})`;
  return { kind, status, error, reason };
}

/** An OAuth error answered with a 4xx other than 404 and 429, for `grant`. */
function refusal(grant: TokenGrantType, status: number, error: string, description: string): TokenFailureClass {
  if (error === 'invalid_client') return 'app_credentials';
  switch (grant) {
    case 'authorization_code':
      // An unknown, expired or used code, or an authorize request the user edited: only a new code helps.
      return 'request_terminal';
    case 'refresh_token':
      if (error === 'invalid_grant' || error === 'shop_not_permitted') return 'shop_terminal';
      if (error === 'invalid_request' && (status === 401 || DEAD_REFRESH_TOKEN.test(description))) {
        return 'shop_terminal';
      }
      return 'ambiguous';
    case 'client_credentials':
      return error === 'shop_not_permitted' || error === 'invalid_grant' ? 'shop_terminal' : 'ambiguous';
    case 'migration':
      // The migration bodies are UNCONFIRMED (§3.3): only the documented refusals end it.
      return error === 'invalid_subject_token' || error === 'invalid_grant' ? 'shop_terminal' : 'ambiguous';
    case 'id_token_exchange':
      return error === 'invalid_subject_token' ? 'request_terminal' : 'ambiguous';
  }
}

/**
 * Classifies a failed token request of `grant`. Returns `null` for an error that is not a
 * token-endpoint failure (a bug, a storage error): the caller rethrows it.
 *
 * @example
 * classifyTokenFailure(new OAuthResponseError(401, 'invalid_request', 'This request requires an active refresh_token'), 'refresh_token')
 * // { kind: 'shop_terminal', status: 401, error: 'invalid_request', reason: 'invalid_request (HTTP 401)' }
 */
export function classifyTokenFailure(error: unknown, grant: TokenGrantType): TokenFailure | null {
  if (error instanceof TransportError) return failure('transient', null, null);
  if (error instanceof OAuthResponseError || error instanceof UnexpectedResponseError) {
    const { status } = error;
    const oauth = error instanceof OAuthResponseError ? error.error : null;
    if (status === 429 || status >= 500) return failure('transient', status, oauth);
    if (status >= 200 && status < 300) return failure('malformed', status, oauth);
    if (status === 404) return failure('ambiguous', status, oauth);
    if (error instanceof OAuthResponseError && status >= 400) {
      return failure(refusal(grant, status, error.error, error.errorDescription ?? ''), status, oauth);
    }
    // A 4xx without an OAuth body, or a 1xx/3xx: nothing documented; for a code, only a new one helps.
    return failure(grant === 'authorization_code' ? 'request_terminal' : 'ambiguous', status, oauth);
  }
  return null;
}
