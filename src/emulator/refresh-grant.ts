/**
 * `grant_type=refresh_token` (reference §3.2): rotation, and the previous refresh token's retry
 * window (the rules live in {@link ExpiringGrants}).
 */

import type { IssuedPair } from './expiring-grants.ts';
import type { EmulatorState } from './state.ts';
import { type GrantAnswer, oauthError, type TokenBody, text } from './token-body.ts';

/**
 * Shopify's answer to a dead refresh token — rotated and its retry window over, revoked by an
 * uninstall or a new grant, lapsed after 90 days, or unknown [OBS reference §3.2: a production log
 * and several codebases' tests]. `invalid_grant` is not emulated: no capture of it from Shopify exists.
 */
export const DEAD_REFRESH_TOKEN: GrantAnswer = {
  status: 401,
  body: { error: 'invalid_request', error_description: 'This request requires an active refresh_token' },
};

/** Seconds from `now` to `at`, rounded up. */
const secondsUntil = (at: number, now: number) => Math.max(0, Math.ceil((at - now) / 1000));

/**
 * An expiring pair in the refresh response's field order (§3.2). The lifetimes count from `now`:
 * a fresh pair answers 3600 and 7776000; a replayed pair answers what remains of it.
 */
export function pairBody(pair: IssuedPair, now: number) {
  return {
    access_token: pair.accessToken,
    expires_in: secondsUntil(pair.accessExpiresAt, now),
    refresh_token: pair.refreshToken,
    refresh_token_expires_in: secondsUntil(pair.refreshExpiresAt, now),
    scope: pair.scopes.join(','),
  };
}

/** Answers a refresh request of an authenticated app. */
export function refreshGrant(state: EmulatorState, domain: string, clientId: string, body: TokenBody): GrantAnswer {
  const refreshToken = text(body.refresh_token);
  if (!refreshToken) return oauthError('invalid_request', 'refresh_token is required');
  const pair = state.expiring.refresh(domain, clientId, refreshToken);
  if (!pair) return DEAD_REFRESH_TOKEN;
  return { status: 200, body: pairBody(pair, state.now()) };
}
