/**
 * `grant_type=refresh_token` (reference §3.2): rotation, and the previous refresh token's retry
 * window (the rules live in {@link ExpiringGrants}).
 */

import type { IssuedPair } from './expiring-grants.ts';
import type { EmulatorState } from './state.ts';
import { type GrantAnswer, oauthError, type TokenBody, text } from './token-body.ts';

// UNCONFIRMED (reference §2.2, gap 7): Shopify's exact description for a dead refresh token. The
// library fixture has `invalid_grant` alone; the wording here is a plausible one (nango.dev's).
const INVALID_GRANT = oauthError('invalid_grant', 'Token has been expired or revoked.');

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
  if (!pair) return INVALID_GRANT;
  return { status: 200, body: pairBody(pair, state.now()) };
}
