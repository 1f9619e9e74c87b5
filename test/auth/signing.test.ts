/** Signed cookie values: per-purpose HKDF keys, rotation, and strict parsing. */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner, deriveSigningKey, safeEqual } from '../../src/auth/signing.ts';

describe('signing', () => {
  it('round-trips a value and rejects any change', () => {
    const signer = createSigner(['secret-1'], 'session-cookie');
    const signed = signer.sign('shop.myshopify.com.1.2');
    assert.equal(signer.verify(signed), 'shop.myshopify.com.1.2');
    assert.equal(signer.verify(signed.replace('.1.2', '.1.3')), null);
    assert.equal(signer.verify('no-signature'), null);
    assert.equal(signer.verify(`.${signed.split('.').at(-1)}`), null);
  });

  it('derives a different key per purpose, neither equal to the raw secret', () => {
    const state = deriveSigningKey('secret-1', 'oauth-state-cookie');
    const session = deriveSigningKey('secret-1', 'session-cookie');
    assert.equal(state.length, 32);
    assert.notDeepEqual(state, session);
    assert.notDeepEqual(state, Buffer.from('secret-1'));
    const sessionSigned = createSigner(['secret-1'], 'session-cookie').sign('v');
    assert.equal(createSigner(['secret-1'], 'oauth-state-cookie').verify(sessionSigned), null);
    const rawSigned = `v.${createHmac('sha256', 'secret-1').update('v').digest('base64url')}`;
    assert.equal(createSigner(['secret-1'], 'session-cookie').verify(rawSigned), null);
  });

  it('signs with the first secret and verifies with any (rotation)', () => {
    const old = createSigner(['old'], 'session-cookie').sign('v');
    const rotated = createSigner(['new', 'old'], 'session-cookie');
    assert.equal(rotated.verify(old), 'v');
    assert.equal(createSigner(['new'], 'session-cookie').verify(rotated.sign('v')), 'v');
    assert.equal(createSigner(['new'], 'session-cookie').verify(old), null);
  });

  it('rejects malformed and non-canonical signatures', () => {
    const signer = createSigner(['s'], 'session-cookie');
    const signed = signer.sign('v');
    const signature = signed.slice(2);
    assert.equal(signer.verify(`v.${signature.slice(0, -1)}`), null, 'too short');
    assert.equal(signer.verify(`v.${signature}A`), null, 'too long');
    assert.equal(signer.verify(`v.${signature.slice(0, -1)}+`), null, 'not base64url');
    // The last base64url character carries 2 unused bits; another spelling of the same bytes is refused.
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    const sibling = alphabet[index ^ 1]!;
    assert.equal(signer.verify(`v.${signature.slice(0, -1)}${sibling}`), null);
  });

  it('safeEqual compares strings of any length', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', ''), true);
  });
});
