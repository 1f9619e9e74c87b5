/**
 * Reading a token request: JSON (what Shopify's libraries send) or a form (what the docs show),
 * `expiring` as '0'/'1' or 0/1, and constant-time client-secret checks. Shared by every grant.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { mediaType, readBody } from './http.ts';

/** A parsed token-request body. */
export type TokenBody = Record<string, unknown>;

/** A grant's answer before it is sent: status and JSON body. */
export interface GrantAnswer {
  status: number;
  body: unknown;
}

/** Shopify's answer to an unknown client or a wrong secret (reference §4, library fixture). */
export const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };

type Parsed = { ok: true; body: TokenBody } | { ok: false; status: number; description: string };

/** Reads the body as JSON or a form; anything else is a 400 (413 when too large). */
export async function parseTokenBody(request: Request): Promise<Parsed> {
  const type = mediaType(request);
  if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') {
    const description = 'Content-Type must be application/json or application/x-www-form-urlencoded';
    return { ok: false, status: 400, description };
  }
  const raw = await readBody(request);
  if (raw === null) return { ok: false, status: 413, description: 'The request body is too large' };
  if (type === 'application/x-www-form-urlencoded') {
    return { ok: true, body: Object.fromEntries(new URLSearchParams(raw)) };
  }
  try {
    const body: unknown = JSON.parse(raw);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return { ok: true, body: body as TokenBody };
  } catch {
    // Falls through to the error below.
  }
  return { ok: false, status: 400, description: 'The request body is not a JSON object' };
}

/** `expiring`: '0'/'1' (JS library, form bodies) or 0/1 (Ruby library); absent means 0. */
export function parseExpiring(value: unknown): boolean | null {
  if (value === undefined || value === '0' || value === 0) return false;
  if (value === '1' || value === 1) return true;
  return null;
}

/** Constant-time string comparison (digests first, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The value when it is a string. */
export const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A 400 OAuth error answer. */
export const oauthError = (error: string, description: string): GrantAnswer => ({
  status: 400,
  body: { error, error_description: description },
});
