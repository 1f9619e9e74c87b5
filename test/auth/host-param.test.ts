/** The `host` parameter passed on to the app only when it is base64 of a Shopify admin host. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidHostParam } from '../../src/auth/host-param.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64').replace(/=+$/, '');

describe('isValidHostParam', () => {
  it('accepts admin hosts, padded or not', () => {
    assert.equal(isValidHostParam(b64('admin.shopify.com/store/cool-shop')), true);
    assert.equal(isValidHostParam(Buffer.from('admin.shopify.com/store/cool-shop').toString('base64')), true);
    assert.equal(isValidHostParam(b64('cool-shop.myshopify.com/admin')), true);
  });

  it('rejects other hosts and garbage', () => {
    for (const value of [
      null,
      '',
      b64('evil.com/admin'),
      b64('admin.shopify.com.evil.com/store/x'),
      b64('evil.com/admin.shopify.com'),
      b64('admin.shopify.com/store/<script>'),
      b64('javascript:alert(1)//.shopify.com'),
      'not base64!',
      `${b64('admin.shopify.com/store/x')}===`,
    ]) {
      assert.equal(isValidHostParam(value), false, String(value));
    }
  });
});
