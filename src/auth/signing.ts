/**
 * Signed cookie values. Each purpose (the OAuth state cookie, the session cookie) gets its own key,
 * derived from the client secret with HKDF and a purpose label, so the raw secret never signs a
 * cookie and a value signed for one purpose does not verify for another. During rotation every
 * secret in the list verifies; the first one signs.
 */

import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** What a signing key is for; `session-token-tag` binds a session cookie to its online token (token-tag.ts). */
export type SigningPurpose = 'oauth-state-cookie' | 'session-cookie' | 'session-token-tag';

const SALT = 'shoptoken/v1';
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** Derives the 32-byte key for `purpose` from a client secret (HKDF-SHA256). */
export function deriveSigningKey(secret: string, purpose: SigningPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, `shoptoken cookie signature: ${purpose}`, 32));
}

/** Signs and verifies `value.signature` strings for one purpose. */
export interface Signer {
  /** `value` followed by `.` and its base64url HMAC-SHA256 under the current secret's key. */
  sign(value: string): string;
  /** The value when the signature verifies under any secret's key, else null. Constant time per key. */
  verify(signed: string): string | null;
}

/**
 * @example
 * const signer = createSigner([currentSecret, oldSecret], 'session-cookie');
 * const cookieValue = signer.sign('shop.myshopify.com.42.1700000000000');
 */
export function createSigner(secrets: readonly string[], purpose: SigningPurpose): Signer {
  if (secrets.length === 0) throw new TypeError('createSigner needs at least one secret');
  const keys = secrets.map((secret) => deriveSigningKey(secret, purpose));
  const mac = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest();

  return {
    sign(value) {
      return `${value}.${mac(keys[0]!, value).toString('base64url')}`;
    },
    verify(signed) {
      const dot = signed.lastIndexOf('.');
      if (dot <= 0) return null;
      const signature = signed.slice(dot + 1);
      if (!SIGNATURE.test(signature)) return null;
      const given = Buffer.from(signature, 'base64url');
      // Reject non-canonical encodings too, so one signature has exactly one spelling.
      if (given.length !== 32 || given.toString('base64url') !== signature) return null;
      const value = signed.slice(0, dot);
      let ok = false;
      // Check every key so the time taken does not tell which one matched.
      for (const key of keys) if (timingSafeEqual(mac(key, value), given)) ok = true;
      return ok ? value : null;
    },
  };
}

/** Constant-time string equality (both sides are hashed first, so lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
