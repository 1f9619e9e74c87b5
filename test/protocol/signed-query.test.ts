import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signQuery } from '../../src/protocol/hmac.ts';
import { verifySignedQuery } from '../../src/protocol/signed-query.ts';

const secret = 'hush';
const now = 1_700_000_000_000;

function signed(params: Record<string, string>, key = secret): URLSearchParams {
  const query = new URLSearchParams(params);
  query.set('hmac', signQuery(query, key));
  return query;
}

describe('verifySignedQuery', () => {
  const fresh = { shop: 'some-shop.myshopify.com', timestamp: String(now / 1000), code: 'abc' };

  it('accepts a fresh, correctly signed query and returns the canonical shop', () => {
    const result = verifySignedQuery(signed(fresh), { secrets: [secret], now });
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.shop, 'some-shop.myshopify.com');
  });

  it('rejects an invalid shop before anything else', () => {
    const result = verifySignedQuery(signed({ ...fresh, shop: 'evil.com' }), { secrets: [secret], now });
    assert.equal(result.ok || result.code, 'ERR_INVALID_SHOP');
  });

  it('rejects two shop parameters', () => {
    const query = signed(fresh);
    query.append('shop', 'other.myshopify.com');
    assert.equal(verifySignedQuery(query, { secrets: [secret], now }).ok, false);
  });

  it('rejects a query signed with another secret', () => {
    const result = verifySignedQuery(signed(fresh, 'other'), { secrets: [secret], now });
    assert.equal(result.ok || result.code, 'ERR_INVALID_HMAC');
  });

  it('accepts a timestamp 90 s away and rejects 91 s, in both directions', () => {
    for (const [offset, ok] of [
      [90, true],
      [-90, true],
      [91, false],
      [-91, false],
    ] as const) {
      const query = signed({ ...fresh, timestamp: String(now / 1000 + offset) });
      const result = verifySignedQuery(query, { secrets: [secret], now });
      assert.equal(result.ok, ok, `offset ${offset}`);
      if (!ok) assert.equal(result.ok || result.code, 'ERR_STALE_TIMESTAMP');
    }
  });

  it('rejects a missing or non-numeric timestamp even when signed', () => {
    const { timestamp: _omit, ...rest } = fresh;
    assert.equal(verifySignedQuery(signed(rest), { secrets: [secret], now }).ok, false);
    assert.equal(verifySignedQuery(signed({ ...fresh, timestamp: '1e9' }), { secrets: [secret], now }).ok, false);
  });
});
