import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthResponseError, TransportError, UnexpectedResponseError } from '../../src/errors.ts';
import { processRefreshTokenResponse, refreshAccessToken, refreshTokenRequest } from '../../src/protocol/refresh.ts';
import type { TokenEndpoint } from '../../src/protocol/tokens.ts';

const SECRET = 'client-secret-value-0001';
const REFRESH = 'shprt_refresh_token_value_0001';
const PAIR = {
  access_token: 'shpat_yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy',
  expires_in: 3600,
  refresh_token: 'shprt_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz',
  refresh_token_expires_in: 7776000,
  scope: 'write_products,read_orders',
};

function endpoint(answer: () => Response | Promise<Response>) {
  const seen: { url: string; init: RequestInit }[] = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  const target: TokenEndpoint = {
    baseUrl: 'http://127.0.0.1:4010/{shop}/',
    shop: 'cool-shop.myshopify.com',
    clientId: 'client-id',
    clientSecret: SECRET,
    fetch: fakeFetch,
  };
  return { seen, target };
}

describe('refresh token request', () => {
  it('posts the documented JSON body to the shop token URL, with the token out of the URL', async () => {
    const { seen, target } = endpoint(() => Response.json(PAIR));
    await refreshTokenRequest(target, REFRESH);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, 'http://127.0.0.1:4010/cool-shop.myshopify.com/admin/oauth/access_token');
    assert.equal(seen[0]?.init.method, 'POST');
    assert.equal(seen[0]?.init.redirect, 'error');
    assert.deepEqual(seen[0]?.init.headers, { 'content-type': 'application/json', accept: 'application/json' });
    assert.deepEqual(JSON.parse(String(seen[0]?.init.body)), {
      client_id: 'client-id',
      client_secret: SECRET,
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
    });
    assert.ok(!seen[0]?.url.includes(REFRESH) && !seen[0]?.url.includes(SECRET));
  });

  it('turns a network failure into a retryable TransportError that names no secret', async () => {
    const { target } = endpoint(() => {
      throw new TypeError('fetch failed');
    });
    const error = await refreshTokenRequest(target, REFRESH).catch((e: unknown) => e);
    assert.ok(error instanceof TransportError);
    assert.equal(error.retryable, true);
    assert.ok(!error.message.includes(REFRESH) && !error.message.includes(SECRET));
  });
});

describe('refresh token response', () => {
  it('returns the new pair with both lifetimes', async () => {
    const { target } = endpoint(() => Response.json(PAIR));
    assert.deepEqual(await refreshAccessToken(target, REFRESH), {
      kind: 'offline',
      accessToken: PAIR.access_token,
      scopes: ['write_products', 'read_orders'],
      expiresIn: 3600,
      refreshToken: PAIR.refresh_token,
      refreshTokenExpiresIn: 7776000,
    });
  });

  it('refuses a non-expiring offline answer (no refresh token)', async () => {
    const body = { access_token: PAIR.access_token, scope: PAIR.scope };
    await assert.rejects(processRefreshTokenResponse(Response.json(body)), UnexpectedResponseError);
  });

  it('refuses an online answer', async () => {
    const body = {
      ...PAIR,
      refresh_token: undefined,
      associated_user_scope: 'read_orders',
      associated_user: { id: 42 },
    };
    await assert.rejects(processRefreshTokenResponse(Response.json(body)), UnexpectedResponseError);
  });

  it('refuses a refresh token without its lifetimes', async () => {
    for (const missing of ['expires_in', 'refresh_token_expires_in']) {
      const body: Record<string, unknown> = { ...PAIR };
      delete body[missing];
      await assert.rejects(processRefreshTokenResponse(Response.json(body)), UnexpectedResponseError, missing);
    }
  });

  it('turns invalid_grant into a non-retryable OAuthResponseError and 503 into a retryable error', async () => {
    const refused = await processRefreshTokenResponse(
      Response.json({ error: 'invalid_grant', error_description: 'refresh token revoked' }, { status: 400 }),
    ).catch((e: unknown) => e);
    assert.ok(refused instanceof OAuthResponseError);
    assert.equal(refused.error, 'invalid_grant');
    assert.equal(refused.retryable, false);
    const down = await processRefreshTokenResponse(new Response('busy', { status: 503 })).catch((e: unknown) => e);
    assert.ok(down instanceof UnexpectedResponseError);
    assert.equal(down.retryable, true);
  });
});
