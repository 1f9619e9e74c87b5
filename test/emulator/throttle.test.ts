/** The Admin API's leaky bucket per app and shop: cost extensions, THROTTLED, refill with the clock. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { APP, graphql, installExpiring, SHOP, setup, tokenRequest } from './helpers.ts';

// products (1 + first: 10) + nodes (1) = 12 points.
const QUERY = '{ products(first: 10) { nodes { id } } }';
const COST = 12;
const LIMITS = { maximumAvailable: 100, restoreRate: 10 };

type Body = { data?: unknown; errors?: unknown; extensions: { cost: Record<string, unknown> } };

async function query(emulator: Parameters<typeof graphql>[0], token: string, shop = SHOP): Promise<Body> {
  const response = await graphql(emulator, token, QUERY, { shop });
  assert.equal(response.status, 200);
  return (await response.json()) as Body;
}

describe('Admin API throttling', () => {
  it('reports the real bucket in extensions.cost', async () => {
    const { emulator } = setup({ throttle: LIMITS });
    const { access_token: token } = await installExpiring(emulator);
    const first = await query(emulator, token);
    assert.deepEqual(first.extensions.cost, {
      requestedQueryCost: COST,
      actualQueryCost: COST,
      throttleStatus: { maximumAvailable: 100, currentlyAvailable: 100 - COST, restoreRate: 10 },
    });
    const second = await query(emulator, token);
    assert.deepEqual(second.extensions.cost.throttleStatus, {
      maximumAvailable: 100,
      currentlyAvailable: 100 - 2 * COST,
      restoreRate: 10,
    });
  });

  it('answers THROTTLED (HTTP 200, no data) when the bucket lacks the points', async () => {
    const { emulator } = setup({ throttle: LIMITS });
    const { access_token: token } = await installExpiring(emulator);
    for (let i = 0; i < 8; i += 1) assert.ok((await query(emulator, token)).data, `query ${i + 1} served`);
    const throttled = await query(emulator, token);
    assert.deepEqual(throttled, {
      errors: [
        {
          message: 'Throttled',
          extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
        },
      ],
      extensions: {
        cost: {
          requestedQueryCost: COST,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 100, currentlyAvailable: 4, restoreRate: 10 },
        },
      },
    });
    const cheap = await graphql(emulator, token, '{ shop { name } }');
    assert.ok(((await cheap.json()) as Body).data, 'a query costing 1 still fits: nothing was taken');
  });

  it('refills at restoreRate with the emulator’s clock', async () => {
    const { emulator, advance } = setup({ throttle: LIMITS });
    const { access_token: token } = await installExpiring(emulator);
    for (let i = 0; i < 8; i += 1) await query(emulator, token);
    advance(799);
    assert.ok((await query(emulator, token)).errors, '4 + 7.99 points is not enough');
    advance(1);
    const served = await query(emulator, token);
    assert.ok(served.data);
    assert.equal((served.extensions.cost.throttleStatus as { currentlyAvailable: number }).currentlyAvailable, 0);
    advance(60_000);
    const full = await query(emulator, token);
    assert.equal(
      (full.extensions.cost.throttleStatus as { currentlyAvailable: number }).currentlyAvailable,
      100 - COST,
    );
  });

  it('keeps one bucket per app and shop', async () => {
    const other = { ...APP, clientId: 'other-app', redirectUrls: ['https://other.example/auth/callback'] };
    const { emulator } = setup({ apps: [APP, other], throttle: LIMITS });
    const { access_token: token } = await installExpiring(emulator);
    const { access_token: otherShopToken } = await installExpiring(emulator, 'other-shop.myshopify.com');
    for (let i = 0; i < 8; i += 1) await query(emulator, token);
    assert.ok((await query(emulator, token)).errors);
    assert.ok((await query(emulator, otherShopToken, 'other-shop.myshopify.com')).data, 'another shop');
    emulator.setOrganizationApp(SHOP, other.clientId);
    emulator.install(SHOP, other.clientId);
    const granted = await tokenRequest(emulator, {
      client_id: other.clientId,
      client_secret: other.clientSecret,
      grant_type: 'client_credentials',
    });
    const { access_token: otherAppToken } = (await granted.json()) as { access_token: string };
    assert.ok((await query(emulator, otherAppToken)).data, 'another app on the same shop');
  });

  it('defaults to 2000 points restoring 100 per second', async () => {
    const { emulator } = setup();
    const { access_token: token } = await installExpiring(emulator);
    const body = await query(emulator, token);
    assert.deepEqual(body.extensions.cost.throttleStatus, {
      maximumAvailable: 2000,
      currentlyAvailable: 2000 - COST,
      restoreRate: 100,
    });
  });

  it('checks the throttle option', () => {
    assert.throws(
      () => createEmulator({ apps: [APP], throttle: { maximumAvailable: 0, restoreRate: Number.NaN } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.join('|') ===
          'throttle.maximumAvailable must be a positive number|throttle.restoreRate must be a positive number',
    );
  });
});
