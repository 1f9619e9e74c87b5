import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBaseUrlTemplate, normalizeShop, shopBaseUrl } from '../../src/protocol/shop.ts';

describe('normalizeShop', () => {
  it('accepts a myshopify domain and lower-cases it', () => {
    assert.equal(normalizeShop('cool-shop.myshopify.com'), 'cool-shop.myshopify.com');
    assert.equal(normalizeShop('Cool-Shop.MyShopify.com'), 'cool-shop.myshopify.com');
    assert.equal(normalizeShop('a1.myshopify.com'), 'a1.myshopify.com');
  });

  const rejected: Record<string, unknown> = {
    'another host': 'evil.com',
    'a look-alike suffix': 'shop.myshopify.com.evil.com',
    'a look-alike prefix': 'evilmyshopify.com',
    'a path': 'shop.myshopify.com/admin',
    'a path that ends like a shop': 'evil.com/.myshopify.com',
    userinfo: 'attacker@shop.myshopify.com',
    'userinfo hiding a host': 'shop.myshopify.com@evil.com',
    'a port': 'shop.myshopify.com:443',
    'a scheme': 'https://shop.myshopify.com',
    'a leading dash': '-shop.myshopify.com',
    'an underscore': 'my_shop.myshopify.com',
    'a subdomain dot': 'a.b.myshopify.com',
    'a trailing dot': 'shop.myshopify.com.',
    whitespace: ' shop.myshopify.com',
    'a newline': 'shop.myshopify.com\n',
    'percent-encoding': 'shop%2emyshopify.com',
    'an empty string': '',
    'a non-string': ['shop.myshopify.com'],
    'an over-long name': `${'a'.repeat(250)}.myshopify.com`,
    'admin.shopify.com': 'admin.shopify.com',
  };
  for (const [what, input] of Object.entries(rejected)) {
    it(`rejects ${what}`, () => {
      assert.equal(normalizeShop(input), null);
    });
  }
});

describe('shop base URLs', () => {
  it('fills the template for Shopify and for the emulator', () => {
    assert.equal(shopBaseUrl('https://{shop}', 'a.myshopify.com'), 'https://a.myshopify.com');
    assert.equal(
      shopBaseUrl('http://127.0.0.1:4010/{shop}/', 'a.myshopify.com'),
      'http://127.0.0.1:4010/a.myshopify.com',
    );
  });

  it('checks templates', () => {
    assert.equal(checkBaseUrlTemplate('https://{shop}'), null);
    assert.equal(checkBaseUrlTemplate('http://127.0.0.1:4010/{shop}'), null);
    assert.match(checkBaseUrlTemplate('https://example.com') ?? '', /\{shop\}/);
    assert.match(checkBaseUrlTemplate('ftp://{shop}') ?? '', /http/);
    assert.match(checkBaseUrlTemplate('https://{shop}?x=1') ?? '', /query/);
  });
});
