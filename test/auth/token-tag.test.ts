/** The tag binding a session cookie to its online token: per-purpose key, rotation, canonical form. */

import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner } from '../../src/auth/signing.ts';
import { createTokenTagger } from '../../src/auth/token-tag.ts';

const TOKEN = 'shpat_0123456789abcdef0123456789abcdef';

describe('token tags', () => {
  it('is HMAC-SHA256 of the token under an HKDF key for this purpose, truncated to 128 bits', () => {
    const key = Buffer.from(
      hkdfSync('sha256', 'secret', 'shoptoken/v1', 'shoptoken cookie signature: session-token-tag', 32),
    );
    const expected = createHmac('sha256', key).update(TOKEN).digest().subarray(0, 16).toString('base64url');
    const tag = createTokenTagger(['secret']).tag(TOKEN);
    assert.equal(tag, expected);
    assert.equal(tag.length, 22);
    assert.ok(!tag.includes(TOKEN.slice(6, 14)), 'nothing of the token shows');
  });

  it('differs from the session-cookie signature of the same value (per-purpose keys)', () => {
    const signature = createSigner(['secret'], 'session-cookie').sign(TOKEN).split('.').at(-1)!;
    assert.notEqual(createTokenTagger(['secret']).tag(TOKEN), signature.slice(0, 22));
  });

  it('matches under every secret of the rotation list; the first one tags', () => {
    const old = createTokenTagger(['old']).tag(TOKEN);
    const rotating = createTokenTagger(['new', 'old']);
    assert.ok(rotating.matches(old, TOKEN));
    assert.ok(rotating.matches(rotating.tag(TOKEN), TOKEN));
    assert.equal(rotating.tag(TOKEN), createTokenTagger(['new']).tag(TOKEN));
    assert.equal(createTokenTagger(['new']).matches(old, TOKEN), false, 'not once the old secret is retired');
  });

  it('refuses another token, and malformed or non-canonical tags', () => {
    const tagger = createTokenTagger(['secret']);
    const tag = tagger.tag(TOKEN);
    assert.equal(tagger.matches(tag, `${TOKEN}0`), false);
    const last = tag.at(-1)!;
    // The last base64url character carries 4 padding bits: a different one can decode to the same bytes.
    const sibling = `${tag.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) ^ 1)}`;
    for (const bad of ['', tag.slice(1), `${tag}A`, `${tag.slice(0, -1)}=`, `${tag.slice(0, -1)}.`, sibling]) {
      assert.equal(tagger.matches(bad, TOKEN), false, bad);
    }
  });
});
