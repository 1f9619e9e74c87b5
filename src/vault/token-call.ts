/**
 * One request to a shop's token endpoint, as every vault job (refresh, client credentials,
 * migration) makes it: through the app-credentials gate (which fails fast while Shopify refuses the
 * app's credentials), and with its failure classified once by {@link classifyTokenFailure}, so a
 * refusal means the same thing to every job. The gate learns from every answer.
 */

import { AppCredentialsError, ConfigError, type ShoptokenError } from '../errors.ts';
import { classifyTokenFailure, type TokenFailure, type TokenGrantType } from '../protocol/token-failure.ts';
import type { TokenEndpoint } from '../protocol/tokens.ts';
import type { GrantContext } from './context.ts';

/** What a token request came to: the checked answer, or its classified failure. */
export type TokenCall<T> =
  | { ok: true; value: T; sentAt: number }
  | { ok: false; failure: TokenFailure; error: ShoptokenError };

/** The shop's token endpoint with the app's credentials and the policy's timeout; ConfigError without credentials. */
export function tokenEndpoint(context: Pick<GrantContext, 'shopify' | 'policy'>, shop: string): TokenEndpoint {
  const { shopify, policy } = context;
  if (!shopify) {
    throw new ConfigError([
      'shopify: the vault needs the app credentials to reach Shopify (openVault({ shopify: { clientId, clientSecret } }))',
    ]);
  }
  return { ...shopify, fetch: shopify.fetch ?? fetch, shop, signal: AbortSignal.timeout(policy.timeoutMs) };
}

/**
 * Sends one `grant` request for `shop` with `send` and classifies the outcome. Throws
 * {@link AppCredentialsError} without sending while the gate holds requests, ConfigError without the
 * `shopify` option, and any error that is not a token-endpoint failure (a bug) as it is. An
 * `app_credentials` failure puts the gate in its rejected state and comes back like the others.
 *
 * @example
 * const call = await callTokenEndpoint(ctx, shop, 'refresh_token', (endpoint) => refreshAccessToken(endpoint, token));
 * if (!call.ok && call.failure.kind === 'transient') retryLater();
 */
export async function callTokenEndpoint<T>(
  context: Pick<GrantContext, 'shopify' | 'policy' | 'now' | 'gate'>,
  shop: string,
  grant: TokenGrantType,
  send: (endpoint: TokenEndpoint) => Promise<T>,
): Promise<TokenCall<T>> {
  await context.gate.admit();
  const endpoint = tokenEndpoint(context, shop);
  const sentAt = context.now();
  try {
    const value = await send(endpoint);
    await context.gate.accepted(grant);
    return { ok: true, value, sentAt };
  } catch (error) {
    const failure = classifyTokenFailure(error, grant);
    if (failure === null) throw error;
    if (failure.kind === 'app_credentials') await context.gate.rejected(grant, failure.reason);
    // A 2xx, however malformed, means Shopify authenticated the app.
    else if (failure.kind === 'malformed') await context.gate.accepted(grant);
    return { ok: false, failure, error: error as ShoptokenError };
  }
}

/** The error for an `app_credentials` failure: the app's credentials, never the shop. */
export function appCredentialsError(call: { failure: TokenFailure; error: ShoptokenError }): AppCredentialsError {
  return new AppCredentialsError(call.failure.reason, { cause: call.error });
}
