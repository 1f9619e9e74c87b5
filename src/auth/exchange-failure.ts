/**
 * What the callback answers when the code exchange fails, read with `classifyTokenFailure` (shopify-
 * protocol §3.6) for the authorization-code grant. Nothing is stored in any case; no answer carries
 * the code, a token or the secret.
 *
 * | failure            | status | why                                                                   |
 * |--------------------|--------|-----------------------------------------------------------------------|
 * | `request_terminal` | 400    | Shopify refused the code (expired, used, unknown, or the authorize URL |
 * |                    |        | was edited): the browser's request cannot succeed; a link restarts    |
 * | `app_credentials`  | 500    | `invalid_client`: the app's own key or secret is wrong — the server's |
 * |                    |        | configuration, not the request; the page names the settings to check  |
 * | `transient`        | 502/504| Shopify failed or did not answer (504 when `exchangeTimeoutMs` passed)|
 * | `ambiguous`        | 502    | an answer Shopify does not document for this grant (e.g. 404)         |
 * | `malformed`        | 502    | a success whose body is not the documented shape                      |
 */

import { classifyTokenFailure } from '../protocol/token-failure.ts';
import { authUrl } from './begin.ts';
import type { AuthRuntime } from './options.ts';
import { restartResponse, textResponse } from './responses.ts';

/** Shopify's OAuth `error` as shown to the user: a short snake_case word, else left out. */
const OAUTH_ERROR = /^[a-z_]{1,40}$/;

const APP_CREDENTIALS_MESSAGE =
  "Shopify refused this app's own credentials (invalid_client), so no shop can sign in. The app's operator " +
  'must check the API key and secret it runs with (SHOPIFY_API_KEY and SHOPIFY_API_SECRET, or the apiKey and ' +
  'apiSecret options). Nothing was saved.';

/** Shopify's answer in words that hold no value: `invalid_request, HTTP 400`, `HTTP 503`. */
function answered(status: number | null, error: string | null): string {
  if (status === null) return '';
  return error !== null && OAUTH_ERROR.test(error)
    ? ` (Shopify answered ${error}, HTTP ${status})`
    : ` (HTTP ${status})`;
}

/**
 * The response to a failed exchange of `shop`'s code, or null when `error` is not a token-endpoint
 * failure (a bug or a storage error: the caller rethrows it). `timedOut`: the exchange's deadline fired.
 */
export function exchangeFailureResponse(
  rt: AuthRuntime,
  shop: string,
  error: unknown,
  timedOut: boolean,
  cookies: readonly string[],
): Response | null {
  const failure = classifyTokenFailure(error, 'authorization_code');
  if (failure === null) return null;
  const restart = authUrl(rt, shop);
  const said = answered(failure.status, failure.error);
  switch (failure.kind) {
    case 'request_terminal':
    case 'shop_terminal':
      return restartResponse(
        400,
        `Shopify did not accept the sign-in code${said}: it expired or was already used, or the sign-in link was changed. Nothing was saved.`,
        restart,
        cookies,
      );
    case 'app_credentials':
      return textResponse(500, APP_CREDENTIALS_MESSAGE, cookies);
    case 'transient':
      if (timedOut) return restartResponse(504, 'Shopify did not answer in time. Nothing was saved.', restart, cookies);
      if (failure.status === null) {
        return restartResponse(
          502,
          'Could not reach Shopify to finish signing in. Nothing was saved.',
          restart,
          cookies,
        );
      }
      return restartResponse(502, `Shopify failed to finish signing in${said}. Nothing was saved.`, restart, cookies);
    case 'ambiguous':
    case 'malformed':
      return restartResponse(
        502,
        `Shopify answered the sign-in with an unexpected response${said}. Nothing was saved.`,
        restart,
        cookies,
      );
  }
}
