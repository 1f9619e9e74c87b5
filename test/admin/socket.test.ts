/**
 * The Admin client over a real loopback socket (the global fetch through @shopify/admin-api-client):
 * a 401 is refreshed and retried once; a connection dropped unanswered is a retryable transport
 * error that neither refreshes nor marks the shop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { TransportError } from '../../src/errors.ts';
import { APP, frozenClock, graphqlStatuses, installOffline, refreshGrants, SHOP, setup } from './fixture.ts';

async function withSocket(run: (t: ReturnType<typeof setup>) => Promise<void>) {
  const clock = frozenClock();
  const emulator = createEmulator({ apps: [APP], now: clock.now });
  const server = await emulator.listen();
  try {
    await run(setup({ socket: { emulator, clock, baseUrl: emulator.baseUrl(server.origin), fetch } }));
  } finally {
    await server.close();
  }
}

describe('admin over a socket', () => {
  it('a 401 → one refresh and one retry → success', () =>
    withSocket(async (t) => {
      await installOffline(t);
      t.emulator.faults.add({ endpoint: 'graphql', status: 401 });
      const result = await t.admin(SHOP).request<{ shop: { myshopifyDomain: string } }>('{ shop { myshopifyDomain } }');
      assert.equal(result.data?.shop.myshopifyDomain, SHOP);
      assert.deepEqual(graphqlStatuses(t.emulator), [401, 200]);
      assert.equal(refreshGrants(t.emulator).length, 1);
    }));

  it('a dropped connection is a retryable TransportError; nothing refreshed or marked', () =>
    withSocket(async (t) => {
      const installed = await installOffline(t);
      t.emulator.faults.add({ endpoint: 'graphql', reset: true });
      const error = await t
        .admin(SHOP)
        .request('{ shop { name } }')
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof TransportError);
      assert.equal(error.retryable, true);
      assert.doesNotMatch(error.message, new RegExp(installed.accessToken));
      assert.equal(refreshGrants(t.emulator).length, 0);
      assert.deepEqual(t.events, []);
      assert.equal((await t.storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))?.status, 'active');
    }));
});
