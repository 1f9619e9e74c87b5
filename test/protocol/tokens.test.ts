import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthResponseError, UnexpectedResponseError } from '../../src/errors.ts';
import { authorizationCodeRequest, parseTokenResponseBody, processTokenResponse } from '../../src/protocol/tokens.ts';

const parse = (body: unknown) => parseTokenResponseBody(JSON.stringify(body), body);

describe('token responses (the three documented shapes)', () => {
  it('non-expiring offline', () => {
    const token = parse({ access_token: 'shpat_0123456789abcdef', scope: 'write_orders,read_customers' });
    assert.deepEqual(token, {
      kind: 'offline',
      accessToken: 'shpat_0123456789abcdef',
      scopes: ['write_orders', 'read_customers'],
      expiresIn: null,
      refreshToken: null,
      refreshTokenExpiresIn: null,
    });
  });

  it('expiring offline', () => {
    const token = parse({
      access_token: 'shpat_0123456789abcdef',
      expires_in: 3600,
      refresh_token: 'shprt_0123456789abcdef',
      refresh_token_expires_in: 7776000,
      scope: 'write_products,read_orders',
    });
    assert.equal(token.kind, 'offline');
    assert.equal(token.kind === 'offline' && token.refreshToken, 'shprt_0123456789abcdef');
    assert.equal(token.kind === 'offline' && token.refreshTokenExpiresIn, 7776000);
    assert.equal(token.expiresIn, 3600);
  });

  it('expiring offline without its lifetimes is refused (it would never be refreshed)', () => {
    assert.throws(
      () => parse({ access_token: 'shpat_0123456789abcdef', refresh_token: 'shprt_0123456789abcdef', scope: 'a' }),
      UnexpectedResponseError,
    );
  });

  it('online, with the user id kept exact as a string', () => {
    const raw =
      '{"access_token":"f85632530bf277ec9ac6f649fc327f17","scope":"write_orders,read_customers","expires_in":86399,' +
      '"associated_user_scope":"write_orders","associated_user":{"id":9007199254740993,"first_name":"John",' +
      '"last_name":"Smith","email":"john@example.com","email_verified":true,"account_owner":true,"locale":"en",' +
      '"collaborator":false},"session":"ignored"}';
    const token = parseTokenResponseBody(raw, JSON.parse(raw));
    assert.equal(token.kind, 'online');
    if (token.kind !== 'online') return;
    assert.equal(token.associatedUser.id, '9007199254740993');
    assert.deepEqual(token.associatedUserScopes, ['write_orders']);
    assert.equal(token.associatedUser.accountOwner, true);
    assert.equal(token.expiresIn, 86399);
  });

  it('refuses shapes Shopify does not document', () => {
    for (const body of [
      null,
      [],
      { scope: 'a' },
      { access_token: 'shpat_0123456789abcdef' },
      { access_token: 5, scope: '' },
    ]) {
      assert.throws(() => parse(body), UnexpectedResponseError);
    }
    assert.throws(
      () => parse({ access_token: 'shpat_0123456789abcdef', scope: 'a', associated_user: { id: 1 } }),
      UnexpectedResponseError,
    );
  });
});

describe('token endpoint errors', () => {
  it('turns an OAuth error body into OAuthResponseError without echoing secrets', async () => {
    const response = Response.json(
      { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' },
      { status: 400 },
    );
    const error = await processTokenResponse(response).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof OAuthResponseError);
    assert.equal(error.status, 400);
    assert.equal(error.error, 'invalid_request');
    assert.equal(error.retryable, false);
  });

  it('marks 5xx as retryable', async () => {
    const error = await processTokenResponse(new Response('oops', { status: 502 })).catch((e: unknown) => e);
    assert.ok(error instanceof UnexpectedResponseError);
    assert.equal(error.retryable, true);
  });
});

describe('authorization code request', () => {
  it('posts the documented JSON body to the shop token URL', async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const fakeFetch = (async (url: string, init: RequestInit) => {
      seen = { url, init };
      return Response.json({});
    }) as unknown as typeof fetch;
    await authorizationCodeRequest(
      { baseUrl: 'https://{shop}', shop: 'a.myshopify.com', clientId: 'id', clientSecret: 'secret', fetch: fakeFetch },
      { code: 'c0de', expiring: true },
    );
    assert.equal(seen?.url, 'https://a.myshopify.com/admin/oauth/access_token');
    assert.equal(seen?.init.method, 'POST');
    assert.deepEqual(JSON.parse(String(seen?.init.body)), {
      client_id: 'id',
      client_secret: 'secret',
      code: 'c0de',
      expiring: '1',
    });
  });
});
