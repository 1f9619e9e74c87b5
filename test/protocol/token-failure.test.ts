/**
 * The classification of token-endpoint failures, row by row of shopify-protocol §3.6. Each case
 * starts from the answer on the wire (status and body), goes through the same response checker
 * the grants use, and is classified for one grant.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShoptokenError, TransportError } from '../../src/errors.ts';
import { processRefreshTokenResponse } from '../../src/protocol/refresh.ts';
import { classifyTokenFailure, type TokenFailureClass, type TokenGrantType } from '../../src/protocol/token-failure.ts';

/** The error the response checker throws for `status` and `body` (a JSON value or raw text). */
async function errorOf(status: number, body: unknown): Promise<unknown> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    await processRefreshTokenResponse(new Response(text, { status, headers: { 'content-type': 'application/json' } }));
  } catch (error) {
    return error;
  }
  assert.fail('the checker accepted a failure');
}

const DEAD = { error: 'invalid_request', error_description: 'This request requires an active refresh_token' };
const DEAD_VARIANT = {
  error: 'invalid_request',
  error_description: 'This request requires an active refresh_token to be present.',
};
const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };
const NOT_PERMITTED = {
  error: 'shop_not_permitted',
  error_description: 'Client credentials cannot be performed on this shop.',
};
const INVALID_SUBJECT = {
  error: 'invalid_subject_token',
  error_description: 'Token exchange cannot be performed due to an invalid subject token.',
};
const NO_EXPIRY = {
  access_token: 'shpat_aaaaaaaaaaaaaaaa',
  refresh_token: 'shprt_bbbbbbbbbbbbbbbb',
  scope: 'read_orders',
};

type Row = [name: string, grant: TokenGrantType, status: number, body: unknown, expected: TokenFailureClass];

const ROWS: Row[] = [
  // Terminal, one shop.
  ['dead refresh token, observed body', 'refresh_token', 401, DEAD, 'shop_terminal'],
  ['dead refresh token, the "to be present" variant', 'refresh_token', 401, DEAD_VARIANT, 'shop_terminal'],
  ['dead refresh token answered 400', 'refresh_token', 400, DEAD, 'shop_terminal'],
  [
    'invalid_grant on refresh (UNCONFIRMED, treated as dead)',
    'refresh_token',
    400,
    { error: 'invalid_grant' },
    'shop_terminal',
  ],
  ['invalid_grant on a migration', 'migration', 400, { error: 'invalid_grant' }, 'shop_terminal'],
  ['shop_not_permitted on client credentials (400)', 'client_credentials', 400, NOT_PERMITTED, 'shop_terminal'],
  [
    'shop_not_permitted on client credentials (401)',
    'client_credentials',
    401,
    { error: 'shop_not_permitted' },
    'shop_terminal',
  ],
  ['invalid_subject_token on a migration exchange', 'migration', 400, INVALID_SUBJECT, 'shop_terminal'],
  // Terminal, one request.
  ['invalid_subject_token on an ID-token exchange', 'id_token_exchange', 400, INVALID_SUBJECT, 'request_terminal'],
  [
    'a used or unknown authorization code',
    'authorization_code',
    400,
    { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' },
    'request_terminal',
  ],
  ['a refused code without an OAuth body', 'authorization_code', 400, 'Bad Request', 'request_terminal'],
  // App-level.
  ['invalid_client on refresh', 'refresh_token', 401, INVALID_CLIENT, 'app_credentials'],
  ['invalid_client on client credentials', 'client_credentials', 400, INVALID_CLIENT, 'app_credentials'],
  ['invalid_client on a migration', 'migration', 400, INVALID_CLIENT, 'app_credentials'],
  ['invalid_client on a code exchange', 'authorization_code', 400, INVALID_CLIENT, 'app_credentials'],
  ['invalid_client on an ID-token exchange', 'id_token_exchange', 400, INVALID_CLIENT, 'app_credentials'],
  // Ambiguous.
  ['404 from the token endpoint on refresh', 'refresh_token', 404, 'Not Found', 'ambiguous'],
  ['404 with an OAuth body', 'refresh_token', 404, { error: 'invalid_request' }, 'ambiguous'],
  ['404 on client credentials', 'client_credentials', 404, 'Not Found', 'ambiguous'],
  ['404 on a code exchange', 'authorization_code', 404, 'Not Found', 'ambiguous'],
  [
    'an undocumented 400 on refresh',
    'refresh_token',
    400,
    { error: 'invalid_request', error_description: 'x' },
    'ambiguous',
  ],
  [
    'an undocumented migration refusal (UNCONFIRMED bodies)',
    'migration',
    400,
    { error: 'invalid_request' },
    'ambiguous',
  ],
  ['a 403 without an OAuth body on refresh', 'refresh_token', 403, 'Forbidden', 'ambiguous'],
  // Transient.
  ['429', 'refresh_token', 429, { error: 'too_many_requests' }, 'transient'],
  ['500', 'refresh_token', 500, 'Internal Server Error', 'transient'],
  ['502 with an OAuth-looking body', 'client_credentials', 502, INVALID_CLIENT, 'transient'],
  ['503', 'migration', 503, 'Service Unavailable', 'transient'],
  ['520 (observed mid-rotation)', 'refresh_token', 520, '', 'transient'],
  ['5xx on a code exchange', 'authorization_code', 500, 'oops', 'transient'],
  // Malformed success.
  ['a refresh answer without its lifetimes', 'refresh_token', 200, NO_EXPIRY, 'malformed'],
  ['a 200 that is not JSON', 'refresh_token', 200, '<html>', 'malformed'],
];

describe('classifyTokenFailure (shopify-protocol §3.6)', () => {
  for (const [name, grant, status, body, expected] of ROWS) {
    it(`${name} → ${expected}`, async () => {
      const failure = classifyTokenFailure(await errorOf(status, body), grant);
      assert.ok(failure, 'a token-endpoint failure is classified');
      assert.equal(failure.kind, expected);
      assert.equal(failure.status, status);
    });
  }

  it('timeouts, resets and DNS failures → transient, with no status', () => {
    const failure = classifyTokenFailure(
      new TransportError('could not reach', new Error('ECONNRESET')),
      'refresh_token',
    );
    assert.deepEqual(failure, { kind: 'transient', status: null, error: null, reason: 'ERR_TRANSPORT' });
  });

  it('describes a failure without any value from the body but the error code', async () => {
    const failure = classifyTokenFailure(await errorOf(401, DEAD), 'refresh_token');
    assert.equal(failure?.reason, 'invalid_request (HTTP 401)');
    const weird = classifyTokenFailure(await errorOf(400, { error: 'bad"<script>' }), 'refresh_token');
    assert.equal(weird?.reason, 'badscript (HTTP 400)');
  });

  it('leaves errors that are not token-endpoint failures to the caller', () => {
    assert.equal(classifyTokenFailure(new Error('a bug'), 'refresh_token'), null);
    assert.equal(classifyTokenFailure(new ShoptokenError('ERR_STORAGE', 'disk'), 'refresh_token'), null);
    assert.equal(classifyTokenFailure(undefined, 'migration'), null);
  });
});
