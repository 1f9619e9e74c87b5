import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { querySignatureMessage, signQuery, verifyQueryHmac } from '../../src/protocol/hmac.ts';

interface Vector {
  name: string;
  secret: string;
  query: string;
  message: string;
  hmac: string;
}
const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/hmac-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};

describe('query HMAC: Shopify vectors', () => {
  for (const v of vectors) {
    it(`${v.name}: builds the signed message`, () => {
      assert.equal(querySignatureMessage(v.query), v.message);
    });
    it(`${v.name}: computes the documented digest`, () => {
      assert.equal(signQuery(v.query, v.secret), v.hmac);
    });
    it(`${v.name}: verifies, and fails with another secret`, () => {
      assert.equal(verifyQueryHmac(v.query, [v.secret]), true);
      assert.equal(verifyQueryHmac(v.query, ['not-hush']), false);
    });
  }
});

describe('query HMAC: inputs', () => {
  const base = vectors[0]!;

  it('accepts URLSearchParams and plain records alike', () => {
    const params = new URLSearchParams(base.query);
    assert.equal(verifyQueryHmac(params, [base.secret]), true);
    assert.equal(verifyQueryHmac(Object.fromEntries(params), [base.secret]), true);
  });

  it('checks every secret in a rotation list', () => {
    assert.equal(verifyQueryHmac(base.query, ['new-secret', base.secret]), true);
  });

  it('rejects a changed parameter', () => {
    assert.equal(verifyQueryHmac(base.query.replace('some-shop', 'other-shop'), [base.secret]), false);
  });

  it('rejects missing, repeated, short, non-hex and upper-cased-but-wrong hmacs', () => {
    const params = new URLSearchParams(base.query);
    const without = new URLSearchParams(params);
    without.delete('hmac');
    assert.equal(verifyQueryHmac(without, [base.secret]), false);
    const twice = new URLSearchParams(params);
    twice.append('hmac', base.hmac);
    assert.equal(verifyQueryHmac(twice, [base.secret]), false);
    for (const bad of [base.hmac.slice(0, 63), `${base.hmac}0`, 'z'.repeat(64), '']) {
      const p = new URLSearchParams(params);
      p.set('hmac', bad);
      assert.equal(verifyQueryHmac(p, [base.secret]), false, `hmac=${bad.length} chars`);
    }
  });

  it('accepts an upper-case hex digest of the right value', () => {
    const p = new URLSearchParams(base.query);
    p.set('hmac', base.hmac.toUpperCase());
    assert.equal(verifyQueryHmac(p, [base.secret]), true);
  });

  it('ignores signature (app proxy) and joins repeated keys with commas', () => {
    assert.equal(querySignatureMessage('b=2&a=1&signature=x&hmac=y'), 'a=1&b=2');
    assert.equal(querySignatureMessage('ids[]=2&ids[]=1&a=1'), 'a=1&ids%5B%5D=2%2C1');
  });

  it('encodes exactly as URLSearchParams does, with %20 for spaces', () => {
    const value = "a b&c=d!'()*~-._é/?#+";
    const expected = new URLSearchParams({ q: value }).toString().replace(/\+/g, '%20');
    assert.equal(querySignatureMessage({ q: value }), expected);
    assert.equal(expected, 'q=a%20b%26c%3Dd%21%27%28%29*%7E-._%C3%A9%2F%3F%23%2B');
  });
});
