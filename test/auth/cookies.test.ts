/** Cookie names, attributes and parsing. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearCookie, cookieNames, readCookie, serializeCookie } from '../../src/auth/cookies.ts';

describe('cookies', () => {
  it('uses __Host- names only with Secure cookies', () => {
    assert.deepEqual(cookieNames(true), { state: '__Host-shoptoken_state', session: '__Host-shoptoken_session' });
    assert.deepEqual(cookieNames(false), { state: 'shoptoken_state', session: 'shoptoken_session' });
  });

  it('serializes the fixed attributes', () => {
    assert.equal(
      serializeCookie('__Host-a', 'v', { secure: true, maxAge: 600 }),
      '__Host-a=v; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600',
    );
    assert.equal(
      serializeCookie('a', 'v', { secure: false, maxAge: 1.9 }),
      'a=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=1',
    );
    assert.equal(clearCookie('__Host-a', true), '__Host-a=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0');
  });

  it('reads one cookie from the Cookie header; the first occurrence wins', () => {
    const request = (cookie: string) => new Request('https://app.example.com/', { headers: { cookie } });
    assert.equal(readCookie(request('a=1; __Host-x=2=3; b'), '__Host-x'), '2=3');
    assert.equal(readCookie(request('x=first; x=second'), 'x'), 'first');
    assert.equal(readCookie(request('xx=1'), 'x'), null);
    assert.equal(readCookie(request('x='), 'x'), null);
    assert.equal(readCookie(new Request('https://app.example.com/'), 'x'), null);
  });
});
