import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import { KeyRing, parseKeyList, type TokenAadParts, tokenAad } from '../../src/vault/keyring.ts';

const PLAINTEXT = 'shpat_0123456789abcdef0123456789abcdef';
const parts: TokenAadParts = { shop: 'cool-shop.myshopify.com', kind: 'online', userId: '42', field: 'access_token' };
const aad = tokenAad(parts);
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

/** Asserts that opening fails with ERR_DECRYPT and that the message holds neither plaintext nor ciphertext. */
function assertDecryptFails(ring: KeyRing, sealed: string, openAad = aad): void {
  assert.throws(
    () => ring.open(sealed, openAad),
    (error: unknown) => {
      assert.ok(error instanceof ShoptokenError);
      assert.equal(error.code, 'ERR_DECRYPT');
      assert.ok(!error.message.includes(PLAINTEXT), 'message leaks the plaintext');
      const body = sealed.split('.')[3] ?? '';
      if (body.length > 0) assert.ok(!error.message.includes(body), 'message leaks the ciphertext');
      return true;
    },
  );
}

/** Flips one bit of the decoded byte at `index` of part `part` (2 = IV, 3 = ciphertext||tag). */
function flip(sealed: string, part: 2 | 3, index: number): string {
  const pieces = sealed.split('.');
  const bytes = Buffer.from(pieces[part]!, 'base64url');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = bytes[at]! ^ 0x01;
  pieces[part] = bytes.toString('base64url');
  return pieces.join('.');
}

describe('tokenAad', () => {
  it('joins prefix, shop, kind, user and field with NUL', () => {
    assert.equal(aad, 'shoptoken/v1\0cool-shop.myshopify.com\0online\u000042\0access_token');
    assert.equal(
      tokenAad({ shop: 'a.myshopify.com', kind: 'offline', userId: null, field: 'refresh_token' }),
      'shoptoken/v1\0a.myshopify.com\0offline\0\0refresh_token',
    );
  });
});

describe('KeyRing', () => {
  const ring = KeyRing.from([k1]);

  it('round-trips a value in the documented format', () => {
    const sealed = ring.seal(PLAINTEXT, aad);
    assert.match(sealed, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes(PLAINTEXT));
    assert.equal(Buffer.from(sealed.split('.')[3]!, 'base64url').length, Buffer.byteLength(PLAINTEXT) + 16);
    assert.equal(ring.open(sealed, aad), PLAINTEXT);
    assert.equal(ring.open(ring.seal('', aad), aad), '');
    assert.equal(ring.open(ring.seal('naïve ✓', aad), aad), 'naïve ✓');
  });

  it('uses a fresh IV for every value', () => {
    const a = ring.seal(PLAINTEXT, aad);
    const b = ring.seal(PLAINTEXT, aad);
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[2], b.split('.')[2]);
  });

  const wrongAad: Record<string, Partial<TokenAadParts>> = {
    'another shop': { shop: 'other-shop.myshopify.com' },
    'another kind': { kind: 'offline' },
    'another user': { userId: '43' },
    'another field': { field: 'refresh_token' },
  };
  for (const [name, change] of Object.entries(wrongAad)) {
    it(`refuses to open with the AAD of ${name}`, () => {
      assertDecryptFails(ring, ring.seal(PLAINTEXT, aad), tokenAad({ ...parts, ...change }));
    });
  }

  it('refuses a key with the same id but other bytes', () => {
    assertDecryptFails(KeyRing.from([{ id: 'k1', key: randomBytes(32) }]), ring.seal(PLAINTEXT, aad));
  });

  it('refuses an unknown key id', () => {
    assertDecryptFails(KeyRing.from([k2]), ring.seal(PLAINTEXT, aad));
  });

  it('detects a flipped byte in the ciphertext, the tag and the IV', () => {
    const sealed = ring.seal(PLAINTEXT, aad);
    assertDecryptFails(ring, flip(sealed, 3, 0));
    assertDecryptFails(ring, flip(sealed, 3, -1));
    assertDecryptFails(ring, flip(sealed, 2, 5));
  });

  it('refuses truncated and malformed values', () => {
    const sealed = ring.seal(PLAINTEXT, aad);
    assertDecryptFails(ring, sealed.slice(0, -4));
    assertDecryptFails(ring, sealed.slice(0, sealed.lastIndexOf('.')));
    assertDecryptFails(ring, `v2${sealed.slice(2)}`);
    assertDecryptFails(ring, `${sealed}.extra`);
    assertDecryptFails(ring, 'v1.k1.AAAA.AAAA');
    assertDecryptFails(ring, '');
  });

  it('names the record and field in the error', () => {
    assert.throws(() => ring.open(ring.seal(PLAINTEXT, aad), tokenAad({ ...parts, userId: '7' })), /user 7/);
    assert.throws(() => ring.open('garbage', aad), /access_token of the online token of cool-shop\.myshopify\.com/);
  });

  it('opens values sealed with an old key after rotation, and seals with the new one', () => {
    const old = ring.seal(PLAINTEXT, aad);
    const rotated = KeyRing.from([k2, k1]);
    assert.equal(rotated.currentKeyId, 'k2');
    assert.equal(rotated.open(old, aad), PLAINTEXT);
    const fresh = rotated.seal(PLAINTEXT, aad);
    assert.equal(fresh.split('.')[1], 'k2');
    assert.equal(rotated.open(fresh, aad), PLAINTEXT);
    assertDecryptFails(ring, fresh);
  });

  it('checks the key list when built, reporting every problem', () => {
    assert.throws(() => KeyRing.from([]), ConfigError);
    assert.throws(
      () => KeyRing.from([{ id: 'bad id', key: randomBytes(32) }, { id: 'k1', key: randomBytes(16) }, k1]),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 3,
    );
  });

  it('keeps key material out of JSON and inspection', async () => {
    const { inspect } = await import('node:util');
    const hex = k1.key.toString('hex');
    const b64 = k1.key.toString('base64');
    for (const text of [JSON.stringify(ring), inspect(ring, { depth: 5, showHidden: true })]) {
      assert.ok(!text.includes(hex) && !text.includes(b64));
    }
  });
});

describe('parseKeyList', () => {
  it('parses ids and base64 or base64url keys, current first', () => {
    const keys = parseKeyList(` k2:${k2.key.toString('base64')} , k1:${k1.key.toString('base64url')}`);
    assert.deepEqual(
      keys.map((k) => k.id),
      ['k2', 'k1'],
    );
    assert.ok(keys[0]!.key.equals(k2.key));
    assert.ok(keys[1]!.key.equals(k1.key));
  });

  it('rejects bad input without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    const cases = [
      '',
      'nocolon',
      `bad id:${k1.key.toString('base64')}`,
      `k1:${short}`,
      'k1:!!!',
      `k1:${k1.key.toString('base64')},k1:${k2.key.toString('base64')}`,
    ];
    for (const text of cases) {
      assert.throws(
        () => parseKeyList(text),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, text);
          assert.ok(!error.message.includes(short) && !error.message.includes(k1.key.toString('base64')));
          return true;
        },
      );
    }
  });
});
