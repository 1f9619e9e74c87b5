/**
 * HEAD on the flow's GET paths changes nothing: a link checker or preview fetching Shopify's real
 * callback neither consumes its state nor exchanges its code, so the browser's GET still completes.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP_URL, createInstallFixture } from '../helpers/install-fixture.ts';
import { assertGenuineCallbackSucceeds, snapshot, withParam } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';

describe('HEAD', () => {
  it("on Shopify's callback: 200 without a body, no cookie, nothing exchanged; the GET then completes", async () => {
    const f = createInstallFixture();
    const callback = await f.callbackOfInstall(SHOP);
    const before = await snapshot(f);
    const cookie = f.browser.jar.header(callback, { method: 'GET', crossSite: true });
    assert.ok(cookie, 'the browser holds the state cookie');
    const response = await f.shoptoken.handle(new Request(callback, { method: 'HEAD', headers: { cookie } }));
    assert.equal(response?.status, 200);
    assert.equal(response.body, null);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.deepEqual(await snapshot(f), before, 'nothing stored, no code exchanged');
    await assertGenuineCallbackSucceeds(f, f.browser, callback);
  });

  it('on a callback that fails the checks that change nothing: their 400', async () => {
    const f = createInstallFixture();
    const callback = await f.callbackOfInstall(SHOP);
    for (const bad of [withParam(callback, 'shop', 'evil.com'), withParam(callback, 'code', 'x')]) {
      const response = await f.shoptoken.handle(new Request(bad, { method: 'HEAD' }));
      assert.equal(response?.status, 400, bad);
      assert.equal(response.body, null);
    }
    assert.equal(f.emulator.grants().length, 0);
  });

  it('on a protected page with a signed install request: no state issued either', async () => {
    const f = createInstallFixture();
    const callback = await f.callbackOfInstall(SHOP); // a signed query: shop, hmac, timestamp, …
    const result = await f.shoptoken.requireSession(
      new Request(`${APP_URL}/orders${callback.search}`, { method: 'HEAD' }),
    );
    assert.ok(result instanceof Response);
    assert.equal(result.status, 200);
    assert.deepEqual(result.headers.getSetCookie(), []);
  });
});
