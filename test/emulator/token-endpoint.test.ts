import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { APP, authorizeParams, exchange, get, install, ORIGIN, SHOP, setup, tokenRequest, userId } from './helpers.ts';

const ACCESS_TOKEN = /^shpat_[0-9a-f]{32}$/;
const REFRESH_TOKEN = /^shprt_[0-9a-f]{32}$/;
const BAD_CODE = {
  error: 'invalid_request',
  error_description: 'The authorization code was not found or was already used',
};
const credentials = { client_id: APP.clientId, client_secret: APP.clientSecret };
const perUser = () => authorizeParams({ 'grant_options[]': 'per-user' });

describe('POST /{shop}/admin/oauth/access_token: response shapes', () => {
  it('non-expiring offline token from a JSON body: exactly access_token and scope', async () => {
    const { emulator } = setup();
    const body = await exchange(emulator, (await install(emulator)).code);
    assert.deepEqual(Object.keys(body), ['access_token', 'scope']);
    assert.match(String(body.access_token), ACCESS_TOKEN);
    assert.equal(body.scope, 'write_products,read_orders,read_customers');
  });

  it('non-expiring offline token from a form body', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    const response = await tokenRequest(emulator, { ...credentials, code }, { form: true });
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(await response.json()), ['access_token', 'scope']);
  });

  for (const [label, expiring, form] of [
    ["'1' in JSON", '1', false],
    ['1 in JSON', 1, false],
    ["'1' in a form", '1', true],
  ] as const) {
    it(`expiring offline token for expiring=${label}`, async () => {
      const { emulator } = setup();
      const { code } = await install(emulator);
      const response = await tokenRequest(emulator, { ...credentials, code, expiring }, { form });
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'refresh_token_expires_in',
        'scope',
      ]);
      assert.match(String(body.access_token), ACCESS_TOKEN);
      assert.match(String(body.refresh_token), REFRESH_TOKEN);
      assert.equal(body.expires_in, 3600);
      assert.equal(body.refresh_token_expires_in, 7_776_000);
    });
  }

  it('online token: the user share of the requested scopes, and the associated user', async () => {
    const { emulator } = setup();
    await install(emulator); // Olivia installs offline first.
    const { code } = await install(emulator, { firstName: 'Sam', action: 'login', params: perUser() });
    // `expiring` is ignored for online codes.
    const body = await exchange(emulator, code, { expiring: 1 });
    assert.deepEqual(Object.keys(body), [
      'access_token',
      'scope',
      'expires_in',
      'associated_user_scope',
      'associated_user',
    ]);
    assert.match(String(body.access_token), ACCESS_TOKEN);
    assert.equal(body.scope, 'write_products,read_orders,read_customers');
    assert.equal(body.expires_in, 86399);
    assert.equal(body.associated_user_scope, 'write_products,read_orders');
    assert.deepEqual(body.associated_user, {
      id: Number(userId(emulator, 'Sam')),
      first_name: 'Sam',
      last_name: 'Staff',
      email: 'sam@cool-shop.example',
      email_verified: true,
      account_owner: false,
      locale: 'en',
      collaborator: false,
    });
  });

  it("is read correctly by shoptoken's own protocol module", async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    const token = await exchangeAuthorizationCode(
      {
        baseUrl: emulator.baseUrl(ORIGIN),
        shop: SHOP,
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        fetch: (input, init) => emulator.fetch(new Request(input, init)),
      },
      { code, expiring: true },
    );
    assert.equal(token.kind, 'offline');
    assert.equal(token.expiresIn, 3600);
    assert.match(token.kind === 'offline' ? String(token.refreshToken) : '', REFRESH_TOKEN);
  });

  it('hands out the same non-expiring offline token across installs, also when the scopes change (§3.1)', async () => {
    const { emulator } = setup();
    const first = await exchange(emulator, (await install(emulator)).code);
    const second = await exchange(emulator, (await install(emulator)).code);
    assert.equal(second.access_token, first.access_token);
    const wider = await install(emulator, { params: authorizeParams({ scope: 'write_customers' }) });
    const third = await exchange(emulator, wider.code);
    assert.equal(third.access_token, first.access_token, 'same installation, same token');
    assert.equal(third.scope, 'write_products,read_orders,write_customers');
  });
});

describe('POST /{shop}/admin/oauth/access_token: rejections', () => {
  it('a code works once', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    await exchange(emulator, code);
    const again = await tokenRequest(emulator, { ...credentials, code });
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), BAD_CODE);
  });

  it('a code expires after codeTtlSeconds', async () => {
    const { emulator, advance } = setup({ codeTtlSeconds: 60 });
    const { code } = await install(emulator);
    advance(60_000);
    const response = await tokenRequest(emulator, { ...credentials, code });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), BAD_CODE);
  });

  it('a wrong secret is invalid_client, and the code is consumed anyway', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    const wrong = await tokenRequest(emulator, { ...credentials, client_secret: `${APP.clientSecret}x`, code });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), {
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    });
    const right = await tokenRequest(emulator, { ...credentials, code });
    assert.equal(right.status, 400);
    assert.deepEqual(await right.json(), BAD_CODE);
  });

  it('a code of another shop is refused', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    const response = await tokenRequest(emulator, { ...credentials, code }, { shop: 'other-shop.myshopify.com' });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), BAD_CODE);
  });

  it('an unknown client is invalid_client', async () => {
    const { emulator } = setup();
    const { code } = await install(emulator);
    const response = await tokenRequest(emulator, { ...credentials, client_id: 'nobody', code });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  it('refuses other body types, unknown expiring values and other grant types', async () => {
    const { emulator } = setup();
    const plain = await emulator.fetch(
      new Request(`${ORIGIN}/${SHOP}/admin/oauth/access_token`, { method: 'POST', body: 'code=x' }),
    );
    assert.equal(plain.status, 400);
    const notJson = await emulator.fetch(
      new Request(`${ORIGIN}/${SHOP}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"code":',
      }),
    );
    assert.equal(notJson.status, 400);
    const { code } = await install(emulator);
    assert.equal((await tokenRequest(emulator, { ...credentials, code, expiring: 'yes' })).status, 400);
    const other = await tokenRequest(emulator, { ...credentials, grant_type: 'password', password: 'x' });
    assert.equal(other.status, 400);
    assert.deepEqual(await other.json(), { error: 'unsupported_grant_type' });
  });

  it('refuses a body over 64 KB', async () => {
    const { emulator } = setup();
    const response = await tokenRequest(emulator, { ...credentials, code: 'x'.repeat(70 * 1024) });
    assert.equal(response.status, 413);
  });
});

describe('grants()', () => {
  it('records every grant with its outcome and never a token value', async () => {
    const { emulator, now } = setup();
    const { code } = await install(emulator);
    const token = await exchange(emulator, code, { expiring: '1' });
    await tokenRequest(emulator, { ...credentials, code });
    const online = await install(emulator, { firstName: 'Sam', action: 'login', params: perUser() });
    await exchange(emulator, online.code);

    assert.deepEqual(emulator.grants(), [
      {
        at: now(),
        shop: SHOP,
        clientId: APP.clientId,
        grantType: 'authorization_code',
        accessMode: 'offline',
        expiring: true,
        userId: null,
        status: 200,
      },
      {
        at: now(),
        shop: SHOP,
        clientId: APP.clientId,
        grantType: 'authorization_code',
        accessMode: null,
        expiring: false,
        userId: null,
        status: 400,
      },
      {
        at: now(),
        shop: SHOP,
        clientId: APP.clientId,
        grantType: 'authorization_code',
        accessMode: 'online',
        expiring: false,
        userId: userId(emulator, 'Sam'),
        status: 200,
      },
    ]);
    const served = await get(emulator, '/_emulator/grants');
    const text = await served.text();
    assert.deepEqual(JSON.parse(text), emulator.grants());
    assert.doesNotMatch(text, /shp(at|rt)_/);
    assert.ok(!text.includes(String(token.access_token)));
    assert.ok(!text.includes(APP.clientSecret));
  });
});
