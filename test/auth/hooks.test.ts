/** afterAuth / afterLogin: when they run, what they see, and what happens when they fail. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { Shoptoken } from '../../src/auth/types.ts';
import type { TokenVault } from '../../src/vault/types.ts';
import {
  type CallbackFixture,
  createCallbackFixture,
  HOST,
  offlineBody,
  onlineBody,
  USER_ID,
} from '../helpers/callback.ts';
import { API_KEY, API_SECRET, APP_URL } from '../helpers/install-fixture.ts';

const SHOP = 'cool-shop.myshopify.com';

/** Runs the offline leg, then the per-user callback; returns the last response (or the rejection). */
async function bothLegs(f: CallbackFixture, st: Shoptoken = f.shoptoken): Promise<Response> {
  const first = await f.begin(SHOP, st);
  const chained = await f.callback(f.callbackUrl(f.params(SHOP, first.state, 'offline-code')), first.cookie, st);
  const state = new URL(chained.headers.get('location')!).searchParams.get('state')!;
  const cookie = chained.headers.getSetCookie()[0]!.split(';')[0]!;
  return f.callback(f.callbackUrl(f.params(SHOP, state, 'online-code')), cookie, st);
}

describe('hooks', () => {
  it('completes without hooks', async () => {
    const f = createCallbackFixture();
    const response = await bothLegs(f);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `${APP_URL}/?shop=${SHOP}&host=${HOST}`);
  });

  it('propagates an error thrown by afterAuth out of handle(); the tokens stay stored', async () => {
    const failure = new Error('webhook registration failed');
    const f = createCallbackFixture({
      afterAuth: () => {
        throw failure;
      },
    });
    await assert.rejects(bothLegs(f), (error) => error === failure);
    assert.deepEqual(
      (await f.vault.list()).map((t) => t.kind),
      ['offline', 'online'],
    );
  });

  it('awaits an async afterAuth before answering', async () => {
    const order: string[] = [];
    const f = createCallbackFixture({
      afterAuth: async ({ missingUserScopes }) => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`afterAuth:${missingUserScopes.length}`);
      },
    });
    await bothLegs(f);
    order.push('answered');
    assert.deepEqual(order, ['afterAuth:0', 'answered']);
  });

  it('restarts the flow when the offline token vanished between the legs (e.g. an uninstall)', async () => {
    const f = createCallbackFixture();
    let offlineGone = false;
    const vault: TokenVault = {
      saveOffline: (input) => f.vault.saveOffline(input),
      saveOnline: async (input) => {
        offlineGone = true; // the uninstall lands while the per-user leg completes
        return f.vault.saveOnline(input);
      },
      offline: async (shop) => (offlineGone ? null : f.vault.offline(shop)),
      online: (shop, userId) => f.vault.online(shop, userId),
      markInstalled: (shop) => f.vault.markInstalled(shop),
      list: () => f.vault.list(),
      close: () => f.vault.close(),
    };
    let afterAuthCalls = 0;
    const st = createShoptoken({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      scopes: 'write_products,read_orders',
      appUrl: APP_URL,
      vault,
      now: f.clock.now,
      fetch: (async (_input: RequestInfo | URL, init?: RequestInit) => {
        const { code } = JSON.parse(String(init?.body)) as { code: string };
        return Response.json(code.startsWith('online') ? onlineBody() : offlineBody());
      }) as typeof fetch,
      afterAuth: () => {
        afterAuthCalls++;
      },
    });
    const response = await bothLegs(f, st);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(afterAuthCalls, 0, 'afterAuth is not called without an offline token');
    assert.ok(await f.vault.online(SHOP, USER_ID));
  });
});
