/** Fault injection per endpoint (status, delay, reset, commit-then-drop) and the request log. */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  APP,
  authorizeParams,
  CREDENTIALS,
  get,
  graphql,
  installExpiring,
  ORIGIN,
  type Pair,
  refresh,
  SHOP,
  setup,
} from './helpers.ts';

const QUERY = '{ shop { name } }';

describe('faults: status, times, matching', () => {
  it('a status fault answers instead of handling: the refresh does not rotate', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    const id = emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', status: 503 });
    const failed = await refresh(emulator, pair.refresh_token);
    assert.equal(failed.status, 503);
    assert.deepEqual(failed.body, { errors: 'Service Unavailable' });
    const ok = await refresh(emulator, pair.refresh_token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.expires_in, 3600, 'the first real use: a fresh pair, not a replay');
    const log = emulator.requests().filter((entry) => entry.grantType === 'refresh_token');
    assert.deepEqual(
      log.map(({ status, fault }) => ({ status, fault })),
      [
        { status: 503, fault: id },
        { status: 200, fault: null },
      ],
    );
  });

  it('applies `times` times, only to its endpoint, grant type and shop', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'graphql', shop: 'other-shop.myshopify.com', status: 500 });
    emulator.faults.add({ endpoint: 'token', grantType: 'client_credentials', status: 500 });
    emulator.faults.add({ endpoint: 'graphql', status: 429, times: 2 });
    const first = await graphql(emulator, pair.access_token, QUERY);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 429);
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 200);
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 200, 'another grant type');
  });

  it('answers in each endpoint’s own error shape', async () => {
    const { emulator } = setup();
    emulator.faults.add({ endpoint: 'authorize', status: 500 });
    emulator.faults.add({ endpoint: 'access_scopes', status: 401 });
    emulator.faults.add({ endpoint: 'token', status: 400 });
    const page = await get(emulator, `/${SHOP}/admin/oauth/authorize?${authorizeParams()}`);
    assert.equal(page.status, 500);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const scopes = await get(emulator, `/${SHOP}/admin/oauth/access_scopes.json`);
    assert.equal(scopes.status, 401);
    assert.match(((await scopes.json()) as { errors: string }).errors, /Invalid API key or access token/);
    const token = await refresh(emulator, 'shprt_x');
    assert.equal(token.status, 400);
    assert.equal(token.body.error, 'invalid_request');
  });

  it('error: a token-endpoint refusal with the given OAuth body; nothing is handled', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'token', status: 401, error: 'invalid_client', times: 2 });
    emulator.faults.add({ endpoint: 'token', status: 400, error: 'shop_not_permitted', errorDescription: 'Nope.' });
    assert.deepEqual(await refresh(emulator, pair.refresh_token), {
      status: 401,
      body: { error: 'invalid_client' },
    });
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 401);
    assert.deepEqual(await refresh(emulator, pair.refresh_token), {
      status: 400,
      body: { error: 'shop_not_permitted', error_description: 'Nope.' },
    });
    const ok = await refresh(emulator, pair.refresh_token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.expires_in, 3600, 'the refusals did not use the token');
  });

  it('omitFields: the grant takes effect and its answer lacks the fields', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', omitFields: ['expires_in'] });
    const partial = await refresh(emulator, pair.refresh_token);
    assert.equal(partial.status, 200);
    assert.equal(partial.body.expires_in, undefined);
    assert.equal(typeof partial.body.refresh_token_expires_in, 'number');
    const retry = await refresh(emulator, pair.refresh_token);
    assert.equal(retry.body.refresh_token, partial.body.refresh_token, 'the refresh was applied: a retry replays it');
    assert.equal(typeof retry.body.expires_in, 'number');
  });

  it('clear() removes every rule; a delay then handles normally', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'graphql', status: 500, times: 5 });
    emulator.faults.clear();
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 200);
    const id = emulator.faults.add({ endpoint: 'graphql', delayMs: 5 });
    assert.equal((await graphql(emulator, pair.access_token, QUERY)).status, 200);
    assert.equal(emulator.requests().at(-1)?.fault, id);
  });

  it('checks a rule, reporting every problem at once', () => {
    const { emulator } = setup();
    assert.throws(
      () =>
        emulator.faults.add({
          endpoint: 'graphql',
          grantType: 'refresh_token',
          times: 0,
          status: 200,
          reset: true,
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'grantType applies to the token endpoint only',
          'times must be a positive integer',
          'status must be an integer from 400 to 599',
          'choose at most one of status, reset, commitThenDrop and omitFields',
        ]);
        return true;
      },
    );
    assert.throws(() => emulator.faults.add({ endpoint: 'token' }), /needs an effect/);
    assert.throws(
      () => emulator.faults.add({ endpoint: 'graphql', status: 401, error: 'invalid_client' }),
      /error applies to a 4xx status of the token endpoint only/,
    );
    assert.throws(
      () => emulator.faults.add({ endpoint: 'token', status: 400, errorDescription: 'x' }),
      /errorDescription needs error/,
    );
    assert.throws(() => emulator.faults.add({ endpoint: 'token', omitFields: [] }), /omitFields must be/);
    assert.throws(() => emulator.faults.add({ endpoint: 'webhooks' as 'token', status: 500 }), /endpoint must be/);
  });
});

describe('faults: dropped connections in-process', () => {
  it('reset: fetch rejects like undici and nothing is handled', async () => {
    const { emulator } = setup();
    const pair = await installExpiring(emulator);
    const grantsBefore = emulator.grants().length;
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', reset: true });
    await assert.rejects(refresh(emulator, pair.refresh_token), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, 'fetch failed');
      return true;
    });
    assert.equal(emulator.grants().length, grantsBefore, 'the grant was never handled');
    assert.equal(emulator.requests().at(-1)?.status, 0);
    assert.equal((await refresh(emulator, pair.refresh_token)).body.expires_in, 3600, 'first real use');
  });

  it('commit-then-drop: the refresh rotates, the client sees a failure, a retry answers the rotated pair', async () => {
    const { emulator, advance } = setup();
    const pair = await installExpiring(emulator);
    const id = emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', commitThenDrop: true });
    await assert.rejects(refresh(emulator, pair.refresh_token), TypeError);
    assert.equal(emulator.grants().at(-1)?.status, 200, 'the grant took effect');
    advance(10 * 60_000);
    const retry = await refresh(emulator, pair.refresh_token);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.expires_in, 3000, 'the pair issued ten minutes ago, not a new one');
    assert.equal((await refresh(emulator, String(retry.body.refresh_token))).status, 200);
    assert.equal((await refresh(emulator, pair.refresh_token)).status, 401, 'replacement used: retired');
    const dropped = emulator.requests().find((entry) => entry.fault === id);
    assert.equal(dropped?.status, 0);
  });
});

describe('faults over a real socket', () => {
  const emulator = createEmulator({ apps: [APP] });
  let server: { origin: string; close(): Promise<void> };
  let base: string;
  before(async () => {
    server = await emulator.listen({ port: 0 });
    base = `${server.origin}/${SHOP}`;
  });
  after(async () => {
    await server.close();
  });

  const refreshOverSocket = (refreshToken: string) =>
    fetch(`${base}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CREDENTIALS, grant_type: 'refresh_token', refresh_token: refreshToken }),
    });

  it('reset destroys the socket: the client sees fetch failed; the server stays up', async () => {
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', reset: true });
    await assert.rejects(refreshOverSocket(pair.refresh_token), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, 'fetch failed');
      return true;
    });
    const response = await refreshOverSocket(pair.refresh_token);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as Pair).expires_in, 3600);
  });

  it('commit-then-drop rotates server-side; a retry with the old token answers the rotated pair', async () => {
    const pair = await installExpiring(emulator);
    emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', commitThenDrop: true });
    await assert.rejects(refreshOverSocket(pair.refresh_token), TypeError);
    emulator.clock.advance(10 * 60_000);
    const retry = (await (await refreshOverSocket(pair.refresh_token)).json()) as Pair;
    assert.ok(retry.expires_in <= 3000, 'issued before the drop, ten minutes ago');
    const next = await refreshOverSocket(retry.refresh_token);
    assert.equal(next.status, 200);
    await next.arrayBuffer();
    assert.equal((await refreshOverSocket(pair.refresh_token)).status, 401);
  });

  it('POST and DELETE /_emulator/faults', async () => {
    const pair = await installExpiring(emulator);
    const post = (rule: unknown) =>
      fetch(`${server.origin}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rule),
      });
    const bad = await post({ endpoint: 'graphql', status: 'soon' });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as { problems: string[] }).problems, [
      'status must be an integer from 400 to 599',
    ]);
    const added = await post({ endpoint: 'graphql', status: 502, times: 3 });
    assert.match(((await added.json()) as { id: string }).id, /^fault-\d+$/);
    const graphqlOverSocket = () =>
      fetch(`${base}/admin/api/2026-10/graphql.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': pair.access_token },
        body: JSON.stringify({ query: QUERY }),
      });
    assert.equal((await graphqlOverSocket()).status, 502);
    const cleared = await fetch(`${server.origin}/_emulator/faults`, { method: 'DELETE' });
    assert.equal(cleared.status, 200);
    assert.equal((await graphqlOverSocket()).status, 200);
  });
});

describe('request log', () => {
  it('records every Shopify request without token values or query strings', async () => {
    const { emulator, now } = setup();
    const pair = await installExpiring(emulator);
    await get(emulator, `/${SHOP}/admin/oauth/authorize?${authorizeParams()}`);
    await graphql(emulator, pair.access_token, QUERY);
    await refresh(emulator, pair.refresh_token);
    await get(emulator, '/_emulator/grants');
    const log = emulator.requests();
    assert.deepEqual(
      log.map(({ method, path, endpoint, grantType, shop, status, fault, at }) => ({
        method,
        path,
        endpoint,
        grantType,
        shop,
        status,
        fault,
        at,
      })),
      [
        {
          method: 'POST',
          path: `/${SHOP}/admin/oauth/authorize`,
          endpoint: 'authorize',
          grantType: null,
          shop: SHOP,
          status: 302,
          fault: null,
          at: now(),
        },
        {
          method: 'POST',
          path: `/${SHOP}/admin/oauth/access_token`,
          endpoint: 'token',
          grantType: 'authorization_code',
          shop: SHOP,
          status: 200,
          fault: null,
          at: now(),
        },
        {
          method: 'GET',
          path: `/${SHOP}/admin/oauth/authorize`,
          endpoint: 'authorize',
          grantType: null,
          shop: SHOP,
          status: 200, // the sign-in page: no admin session cookie was sent
          fault: null,
          at: now(),
        },
        {
          method: 'POST',
          path: `/${SHOP}/admin/api/2026-10/graphql.json`,
          endpoint: 'graphql',
          grantType: null,
          shop: SHOP,
          status: 200,
          fault: null,
          at: now(),
        },
        {
          method: 'POST',
          path: `/${SHOP}/admin/oauth/access_token`,
          endpoint: 'token',
          grantType: 'refresh_token',
          shop: SHOP,
          status: 200,
          fault: null,
          at: now(),
        },
      ],
    );
    const served = await get(emulator, '/_emulator/requests');
    const text = await served.text();
    assert.deepEqual(JSON.parse(text), emulator.requests());
    assert.doesNotMatch(text, /shp(at|rt)_|state-nonce|client_id/);
    assert.ok(!text.includes(APP.clientSecret));
  });

  it('logs other paths as endpoint other', async () => {
    const { emulator } = setup();
    await get(emulator, '/not-a-shop/admin/oauth/authorize');
    assert.deepEqual(
      emulator.requests().map(({ endpoint, shop, status }) => ({ endpoint, shop, status })),
      [{ endpoint: 'other', shop: null, status: 404 }],
    );
    assert.equal((await emulator.fetch(new Request(`${ORIGIN}/_emulator/requests`))).status, 200);
    assert.equal(emulator.requests().length, 1, '/_emulator/* is not logged');
  });
});
