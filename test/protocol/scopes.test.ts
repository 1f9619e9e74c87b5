import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactScopes, coversScopes, expandScopes, missingScopes, parseScopes } from '../../src/protocol/scopes.ts';

describe('scope arithmetic', () => {
  it('parses comma lists, trimming and dropping duplicates and blanks', () => {
    assert.deepEqual(parseScopes(' read_products, write_orders,,read_products '), ['read_products', 'write_orders']);
    assert.deepEqual(parseScopes(''), []);
    assert.deepEqual(parseScopes(null), []);
  });

  it('write implies read, not the other way round', () => {
    assert.deepEqual([...expandScopes(['write_products'])].sort(), ['read_products', 'write_products']);
    assert.equal(coversScopes(['write_products'], ['read_products']), true);
    assert.equal(coversScopes(['read_products'], ['write_products']), false);
  });

  it('write implies read for unauthenticated (storefront) scopes too', () => {
    assert.equal(coversScopes(['unauthenticated_write_checkouts'], ['unauthenticated_read_checkouts']), true);
  });

  it('lists what is missing, in the order required', () => {
    assert.deepEqual(
      missingScopes(['write_products', 'read_orders', 'read_customers'], ['read_products', 'read_orders']),
      ['write_products', 'read_customers'],
    );
    assert.deepEqual(missingScopes(['read_products'], ['write_products']), []);
  });

  it('does not treat a similar handle as implied', () => {
    assert.equal(coversScopes(['write_product_listings'], ['read_products']), false);
  });

  it('compacts read scopes implied by write scopes', () => {
    assert.deepEqual(compactScopes(['read_products', 'write_products', 'read_orders']), [
      'write_products',
      'read_orders',
    ]);
  });
});
