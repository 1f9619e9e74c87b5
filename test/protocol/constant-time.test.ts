/**
 * The secret comparisons go through crypto.timingSafeEqual, on digests of equal length. Timing is
 * not measured (no timed assertions); instead node:crypto's export is wrapped, the ESM bindings are
 * re-synced, and the comparisons made by the code under test are observed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, type TestContext } from 'node:test';
import { createSigner, safeEqual } from '../../src/auth/signing.ts';
import { signQuery, verifyQueryHmac } from '../../src/protocol/hmac.ts';

function observeTimingSafeEqual(t: TestContext): Array<[number, number]> {
  const calls: Array<[number, number]> = [];
  const original = crypto.timingSafeEqual;
  t.mock.method(crypto, 'timingSafeEqual', (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    calls.push([a.byteLength, b.byteLength]);
    return original(a, b);
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  return calls;
}

describe('constant-time comparisons', () => {
  const secret = 'hush';
  const query = new URLSearchParams({ shop: 'some-shop.myshopify.com', timestamp: '1337178173', code: 'x' });
  query.set('hmac', signQuery(query, secret));

  it('the query HMAC is compared with timingSafeEqual, for a good and a bad digest alike', (t) => {
    const calls = observeTimingSafeEqual(t);
    assert.equal(verifyQueryHmac(query, [secret]), true);
    const bad = new URLSearchParams(query);
    bad.set('hmac', '0'.repeat(64));
    assert.equal(verifyQueryHmac(bad, [secret]), false);
    assert.deepEqual(calls, [
      [32, 32],
      [32, 32],
    ]);
  });

  it('every secret in a rotation list is compared, whichever matches', (t) => {
    const calls = observeTimingSafeEqual(t);
    assert.equal(verifyQueryHmac(query, [secret, 'old-secret', 'older-secret']), true);
    assert.equal(calls.length, 3);
  });

  it('cookie signatures and state values are compared with timingSafeEqual', (t) => {
    const calls = observeTimingSafeEqual(t);
    const signer = createSigner(['app-secret'], 'session-cookie');
    assert.equal(signer.verify(signer.sign('value')), 'value');
    assert.equal(safeEqual('state-a', 'state-b'), false);
    assert.equal(calls.length, 2);
    assert.ok(calls.every(([a, b]) => a === b));
  });
});
