/**
 * The token exchange of a non-expiring offline token for an expiring pair (reference §3.3):
 * `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with an offline-access-token
 * subject and `expiring=1`. The embedded exchange (an ID-token subject, §2) is not emulated.
 */

import { pairBody } from './refresh-grant.ts';
import type { EmulatorState } from './state.ts';
import { type GrantAnswer, oauthError, parseExpiring, type TokenBody, text } from './token-body.ts';

/** The token-exchange grant type. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const OFFLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:offline-access-token';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

// `invalid_subject_token` and this description are confirmed for ID-token exchanges (§2.2); for a
// migration the exact value is UNCONFIRMED (the library fixture has `invalid_request`). Apps should
// treat any 400 here as "this shop must re-authenticate".
const INVALID_SUBJECT = oauthError(
  'invalid_subject_token',
  'Token exchange cannot be performed due to an invalid subject token.',
);

/** Answers a token exchange of an authenticated app. */
export function migrationGrant(state: EmulatorState, domain: string, clientId: string, body: TokenBody): GrantAnswer {
  const subjectType = text(body.subject_token_type);
  if (subjectType === ID_TOKEN_TYPE) {
    return oauthError('unsupported_token_type', 'The emulator does not emulate the embedded (ID token) exchange');
  }
  if (subjectType !== OFFLINE_TOKEN_TYPE) {
    // Reported for a wrong subject_token_type (reference §2.2, shopify-app-js PR #563).
    return oauthError('invalid_subject_token_type', `subject_token_type must be ${OFFLINE_TOKEN_TYPE}`);
  }
  const requested = body.requested_token_type;
  if (requested !== undefined && requested !== OFFLINE_TOKEN_TYPE) {
    return oauthError('invalid_request', `requested_token_type must be ${OFFLINE_TOKEN_TYPE}`);
  }
  if (parseExpiring(body.expiring) !== true) {
    return oauthError('invalid_request', 'expiring=1 is required to migrate a non-expiring token');
  }
  const subject = text(body.subject_token);
  if (!subject) return oauthError('invalid_request', 'subject_token is required');
  const pair = state.migrate(domain, clientId, subject);
  if (!pair) return INVALID_SUBJECT;
  return { status: 200, body: pairBody(pair, state.now()) };
}
