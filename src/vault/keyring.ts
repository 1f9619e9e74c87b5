/**
 * Encryption of token values at rest: AES-256-GCM with a random 96-bit IV per value and a 128-bit
 * tag. Keys form a list, current first; a sealed value names the key that sealed it, so old values
 * still open after a new key is put in front (rotation). The additional authenticated data (AAD)
 * binds each value to its record and field, so a value copied into another row does not open.
 */

import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomFillSync } from 'node:crypto';
import { ConfigError, ShoptokenError } from '../errors.ts';
import type { TokenKind } from '../storage/types.ts';

/**
 * Random IVs, drawn from the system's CSPRNG a pool at a time: one `randomBytes(12)` call costs
 * more than the rest of a seal. Each IV is a slice no other seal gets, used at once.
 */
const IV_POOL = Buffer.alloc(12 * 512);
let ivOffset = IV_POOL.length;

function freshIv(): Buffer {
  if (ivOffset + 12 > IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  const iv = Buffer.from(IV_POOL.subarray(ivOffset, ivOffset + 12));
  ivOffset += 12;
  return iv;
}

/** One encryption key: an id stored with every value it seals, and 32 bytes of key material. */
export interface Key {
  /** Matches `/^[A-Za-z0-9_-]{1,32}$/`. */
  id: string;
  /** Exactly 32 bytes. */
  key: Buffer;
}

/** Which value of a token record a sealed string holds. */
export type TokenField = 'access_token' | 'refresh_token' | 'user';

/** Where a sealed value belongs: its record (app, shop, kind, user) and field. */
export interface TokenAadParts {
  /** The app the record belongs to; `''` (or absent) for the one app of a single-app store. */
  app?: string;
  shop: string;
  kind: TokenKind;
  /** `null` or `''` for offline tokens. */
  userId: string | null;
  field: TokenField;
}

const VERSION = 'v1';
const AAD_PREFIX = 'shoptoken/v1';
const APP_AAD_PREFIX = 'shoptoken/v1/app';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The AAD for one field of one token record. A record of a named app binds the app too (a value
 * copied to another app's row does not open); the single app's (`''`) keeps the original form, so
 * values sealed before apps were named still open.
 *
 * @example
 * tokenAad({ shop: 'a.myshopify.com', kind: 'offline', userId: null, field: 'access_token' })
 * // 'shoptoken/v1\0a.myshopify.com\0offline\0\0access_token'
 */
export function tokenAad(parts: TokenAadParts): string {
  const record = [parts.shop, parts.kind, parts.userId ?? '', parts.field];
  return (parts.app ? [APP_AAD_PREFIX, parts.app, ...record] : [AAD_PREFIX, ...record]).join('\0');
}

/** A readable name for the record and field an AAD belongs to; AADs hold no secrets. */
function describeAad(aad: string): string {
  const parts = aad.split('\0');
  const named = parts[0] === APP_AAD_PREFIX && parts.length === 6;
  if (!named && (parts[0] !== AAD_PREFIX || parts.length !== 5)) return 'value';
  const [shop, kind, userId, field] = parts.slice(named ? 2 : 1);
  return `${field} of the ${kind} token of ${shop}${userId ? ` (user ${userId})` : ''}`;
}

/** Decodes base64 or base64url key material; `null` unless it is exactly 32 bytes. */
export function decodeKeyMaterial(text: string): Buffer | null {
  // Node's base64 decoder accepts both the standard and the URL-safe alphabet.
  const key = typeof text === 'string' && BASE64.test(text) ? Buffer.from(text, 'base64') : null;
  return key && key.length === KEY_BYTES ? key : null;
}

/** Checks a key list (ids, lengths, duplicates); returns every problem, never key material. */
export function keyProblems(keys: readonly Key[]): string[] {
  if (!Array.isArray(keys) || keys.length === 0) return ['at least one encryption key is required'];
  const problems: string[] = [];
  const seen = new Set<string>();
  keys.forEach((entry, index) => {
    const id = entry?.id;
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      problems.push(`key ${index + 1}: id must match ${KEY_ID.source}`);
    } else if (seen.has(id)) {
      problems.push(`key ${index + 1}: id "${id}" is used twice`);
    } else {
      seen.add(id);
    }
    if (!Buffer.isBuffer(entry?.key) || entry.key.length !== KEY_BYTES) {
      problems.push(
        `key ${index + 1}${typeof id === 'string' && KEY_ID.test(id) ? ` ("${id}")` : ''}: must be ${KEY_BYTES} bytes`,
      );
    }
  });
  return problems;
}

/**
 * Parses a key list such as `"k2:BASE64,k1:BASE64"` (current key first; base64 or base64url of 32
 * bytes). Throws ConfigError listing every problem; messages never echo key material.
 *
 * @example
 * const keys = parseKeyList(process.env.SHOPTOKEN_KEYS ?? '');
 */
export function parseKeyList(text: string, name = 'SHOPTOKEN_KEYS'): Key[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry === '')) throw new ConfigError([`${name} is empty`]);
  const problems: string[] = [];
  const keys: Key[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon === -1 ? '' : entry.slice(0, colon);
    const material = colon === -1 ? '' : entry.slice(colon + 1);
    if (colon === -1) {
      problems.push(`${name} entry ${index + 1}: expected id:base64-key`);
      return;
    }
    if (!KEY_ID.test(id)) problems.push(`${name} entry ${index + 1}: key id must match ${KEY_ID.source}`);
    const key = decodeKeyMaterial(material);
    if (!key) {
      problems.push(`${name} entry ${index + 1}: key must be ${KEY_BYTES} bytes in base64`);
      return;
    }
    keys.push({ id, key });
  });
  if (problems.length === 0) problems.push(...keyProblems(keys).map((problem) => `${name}: ${problem}`));
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

function decryptError(aad: string, reason: string): ShoptokenError {
  return new ShoptokenError('ERR_DECRYPT', `cannot decrypt the ${describeAad(aad)}: ${reason}`);
}

/** Decodes strict base64url (the canonical encoding only), or `null`. */
function decode(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/**
 * A list of AES-256-GCM keys, current first. Key material lives in a private field: it is not
 * enumerable and does not show in `JSON.stringify` or `util.inspect`.
 *
 * @example
 * const ring = KeyRing.from([{ id: 'k1', key: randomBytes(32) }]);
 * const aad = tokenAad({ shop, kind: 'offline', userId: null, field: 'access_token' });
 * ring.open(ring.seal('shpat_…', aad), aad); // 'shpat_…'
 */
export class KeyRing {
  // KeyObjects made once: creating one from raw bytes on every call was most of a decrypt's cost.
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /** The id of the key new values are sealed with. */
  readonly currentKeyId: string;

  private constructor(keys: readonly Key[]) {
    this.#keys = new Map(keys.map(({ id, key }) => [id, createSecretKey(Buffer.from(key))]));
    this.currentKeyId = keys[0]!.id;
  }

  /** Builds a ring from keys (current first). Throws ConfigError listing every problem. */
  static from(keys: readonly Key[]): KeyRing {
    const problems = keyProblems(keys);
    if (problems.length > 0) throw new ConfigError(problems);
    return new KeyRing(keys);
  }

  /** Seals `plaintext` with the current key: `v1.<keyId>.<iv>.<ciphertext||tag>` (base64url). */
  seal(plaintext: string, aad: string): string {
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.currentKeyId, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The id of the key that sealed `sealed`, or null when it is not a sealed value. */
  keyIdOf(sealed: string): string | null {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    return parts.length === 4 && parts[0] === VERSION && KEY_ID.test(parts[1]!) ? parts[1]! : null;
  }

  /** True when the ring holds the key that sealed `sealed` (it may still fail to open if altered). */
  canOpen(sealed: string): boolean {
    const id = this.keyIdOf(sealed);
    return id !== null && this.#keys.has(id);
  }

  /**
   * Opens a value sealed by {@link seal} with the same AAD. Throws ShoptokenError `ERR_DECRYPT`
   * when it is malformed, names an unknown key, or fails authentication.
   */
  open(sealed: string, aad: string): string {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    const [version, keyId, ivText, bodyText] = parts;
    if (parts.length !== 4 || version !== VERSION) throw decryptError(aad, 'malformed sealed value');
    const key = this.#keys.get(keyId!);
    if (!key) throw decryptError(aad, `unknown key id "${KEY_ID.test(keyId!) ? keyId : '?'}"`);
    const iv = decode(ivText!);
    const body = decode(bodyText!);
    if (!iv || iv.length !== IV_BYTES || !body || body.length < TAG_BYTES) {
      throw decryptError(aad, 'malformed sealed value');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      // Wrong key bytes, wrong AAD or a modified value: GCM cannot tell which, and neither do we.
      throw decryptError(aad, 'authentication failed (wrong key, wrong record or modified value)');
    }
  }
}
