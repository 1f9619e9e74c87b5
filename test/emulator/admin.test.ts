import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP, authorizeParams, exchange, graphql, install, ORIGIN, SHOP, setup, type TestEmulator } from './helpers.ts';

/** The parts of a GraphQL answer these tests read. */
interface GraphqlBody {
  data?: Record<string, { nodes: unknown[] } | null>;
  errors?: unknown[];
  extensions: { cost: { throttleStatus: Record<'maximumAvailable' | 'currentlyAvailable' | 'restoreRate', number> } };
}
const read = async (response: Response | Promise<Response>) => (await (await response).json()) as GraphqlBody;

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

/** Olivia installs (offline token), then Rita signs in (online token; Rita only has read_products). */
async function installed(t: TestEmulator = setup()) {
  const { emulator } = t;
  const offline = String((await exchange(emulator, (await install(emulator)).code)).access_token);
  const rita = await install(emulator, {
    firstName: 'Rita',
    action: 'login',
    params: authorizeParams({ 'grant_options[]': 'per-user' }),
  });
  const online = String((await exchange(emulator, rita.code)).access_token);
  return { ...t, offline, online };
}

function accessScopes(t: TestEmulator, token: string | null, shop = SHOP): Promise<Response> {
  return t.emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/oauth/access_scopes.json`, {
      headers: token === null ? {} : { 'x-shopify-access-token': token },
    }),
  );
}

describe('Admin GraphQL', () => {
  it('answers the shop query with a valid token, with a cost extension', async () => {
    const { emulator, offline } = await installed();
    const response = await graphql(emulator, offline, '{ shop { name email myshopifyDomain } }');
    assert.equal(response.status, 200);
    const body = await read(response);
    assert.deepEqual(body.data, {
      shop: { name: 'Cool Shop', email: 'olivia@cool-shop.example', myshopifyDomain: SHOP },
    });
    assert.equal(body.errors, undefined);
    assert.equal(body.extensions.cost.throttleStatus.maximumAvailable, 2000);
    assert.equal(body.extensions.cost.throttleStatus.restoreRate, 100);
    assert.ok(body.extensions.cost.throttleStatus.currentlyAvailable <= 2000);
  });

  it('answers 401 with Shopify’s body for a missing, unknown or other-shop token', async () => {
    const { emulator, offline } = await installed();
    for (const [token, shop] of [
      [null, SHOP],
      ['shpat_00000000000000000000000000000000', SHOP],
      [offline, 'other-shop.myshopify.com'],
    ] as const) {
      const response = await graphql(emulator, token, '{ shop { name } }', { shop });
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), UNAUTHORIZED);
    }
  });

  it('answers 401 for every token of an app after uninstall', async () => {
    const t = await installed();
    t.emulator.uninstall(SHOP, APP.clientId);
    for (const token of [t.offline, t.online]) {
      const response = await graphql(t.emulator, token, '{ shop { name } }');
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), UNAUTHORIZED);
    }
    assert.deepEqual(t.emulator.shop(SHOP)?.installations, {});
  });

  it('answers 401 once an online token has expired', async () => {
    const t = await installed();
    assert.equal((await graphql(t.emulator, t.online, '{ shop { name } }')).status, 200);
    t.advance(86_399_000);
    assert.equal((await graphql(t.emulator, t.online, '{ shop { name } }')).status, 401);
    assert.equal((await graphql(t.emulator, t.offline, '{ shop { name } }')).status, 200);
  });

  it('ACCESS_DENIED for an online token of a user lacking read_orders; the offline token succeeds', async () => {
    const { emulator, offline, online } = await installed();
    const query = '{ orders(first: 2) { nodes { id name } } }';
    const denied = await graphql(emulator, online, query);
    assert.equal(denied.status, 200);
    const body = await read(denied);
    assert.deepEqual(body.data, { orders: null });
    assert.deepEqual(body.errors, [
      {
        message: 'Access denied for orders field. Required access: `read_orders` access scope.',
        locations: [{ line: 1, column: 3 }],
        path: ['orders'],
        extensions: {
          code: 'ACCESS_DENIED',
          documentation: 'https://shopify.dev/api/usage/access-scopes',
          requiredAccess: '`read_orders` access scope.',
        },
      },
    ]);
    const allowed = await read(graphql(emulator, offline, query));
    assert.equal(allowed.errors, undefined);
    assert.equal(allowed.data?.orders?.nodes.length, 2);
    // Rita does have read_products, so her token reads products.
    const products = await read(graphql(emulator, online, '{ products(first: 1) { nodes { title } } }'));
    assert.equal(products.data?.products?.nodes.length, 1);
  });

  it('lists the token’s scopes with implied reads in currentAppInstallation', async () => {
    const { emulator, offline, online } = await installed();
    const query = '{ currentAppInstallation { accessScopes { handle description } } }';
    const handles = async (token: string) => {
      const body = (await (await graphql(emulator, token, query)).json()) as {
        data: { currentAppInstallation: { accessScopes: { handle: string; description: string }[] } };
      };
      const scopes = body.data.currentAppInstallation.accessScopes;
      assert.ok(scopes.every((scope) => scope.description.length > 0));
      return scopes.map((scope) => scope.handle);
    };
    assert.deepEqual(await handles(offline), ['write_products', 'read_products', 'read_orders', 'read_customers']);
    assert.deepEqual(await handles(online), ['read_products']);
  });

  it('answers 404 for a malformed version, 400 for a non-JSON body, 200 with errors for a parse error', async () => {
    const { emulator, offline } = await installed();
    assert.equal((await graphql(emulator, offline, '{ shop { name } }', { version: 'latest' })).status, 404);
    assert.equal((await graphql(emulator, offline, '{ shop { name } }', { version: 'unstable' })).status, 200);
    const notJson = await emulator.fetch(
      new Request(`${ORIGIN}/${SHOP}/admin/api/2026-10/graphql.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': offline },
        body: 'query { shop { name } }',
      }),
    );
    assert.equal(notJson.status, 400);
    const parseError = await graphql(emulator, offline, '{ shop { name }');
    assert.equal(parseError.status, 200);
    const body = (await parseError.json()) as { errors: { message: string }[]; data?: unknown };
    assert.match(body.errors[0]!.message, /Syntax Error/);
  });
});

describe('GET /{shop}/admin/oauth/access_scopes.json', () => {
  it('lists the scopes of the token, or answers the 401 body', async () => {
    const t = await installed();
    const offline = await accessScopes(t, t.offline);
    assert.equal(offline.status, 200);
    assert.deepEqual(await offline.json(), {
      access_scopes: [
        { handle: 'write_products' },
        { handle: 'read_products' },
        { handle: 'read_orders' },
        { handle: 'read_customers' },
      ],
    });
    assert.deepEqual(await (await accessScopes(t, t.online)).json(), { access_scopes: [{ handle: 'read_products' }] });
    const none = await accessScopes(t, null);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), UNAUTHORIZED);
    assert.equal((await accessScopes(t, t.offline, 'other-shop.myshopify.com')).status, 401);
  });
});
