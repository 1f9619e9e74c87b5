/**
 * The tag that binds a session cookie to the online token it was issued with: HMAC-SHA256 of the
 * access token under a key derived (HKDF) from the client secret for this purpose only, truncated
 * to 128 bits. The cookie carries the tag, never the token; the tag tells nothing about the token
 * without the secret. When the user's stored online token is replaced (a new sign-in), deleted (a
 * sign-out) or expires, no cookie tagged for the old one opens a session again.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveSigningKey } from './signing.ts';

const TAG_BYTES = 16;
/** A tag as it appears in the cookie: 16 bytes in canonical base64url. */
export const TOKEN_TAG = /^[A-Za-z0-9_-]{22}$/;

/** Tags online tokens and checks tags, under every secret of the rotation list (the first one tags). */
export interface TokenTagger {
  /** The base64url tag of `accessToken` under the current secret. */
  tag(accessToken: string): string;
  /** True when `tag` is the tag of `accessToken` under any secret. Constant time per secret. */
  matches(tag: string, accessToken: string): boolean;
}

/**
 * @example
 * const tagger = createTokenTagger([currentSecret, oldSecret]);
 * const tag = tagger.tag(online.accessToken); // in the signed session cookie
 * tagger.matches(tag, (await vault.online(shop, userId))!.accessToken); // on every read
 */
export function createTokenTagger(secrets: readonly string[]): TokenTagger {
  if (secrets.length === 0) throw new TypeError('createTokenTagger needs at least one secret');
  const keys = secrets.map((secret) => deriveSigningKey(secret, 'session-token-tag'));
  const mac = (key: Buffer, token: string) =>
    createHmac('sha256', key).update(token, 'utf8').digest().subarray(0, TAG_BYTES);

  return {
    tag(accessToken) {
      return mac(keys[0]!, accessToken).toString('base64url');
    },
    matches(tag, accessToken) {
      if (!TOKEN_TAG.test(tag)) return false;
      const given = Buffer.from(tag, 'base64url');
      // One spelling per tag: refuse non-canonical encodings.
      if (given.length !== TAG_BYTES || given.toString('base64url') !== tag) return false;
      let ok = false;
      // Check every key so the time taken does not tell which one matched.
      for (const key of keys) if (timingSafeEqual(mac(key, accessToken), given)) ok = true;
      return ok;
    },
  };
}
