/**
 * The browser session: a signed cookie `{shop}.{userId}.{issuedAt}.{signature}` that names the
 * signed-in staff user. It holds no token; the user's online token stays in the vault, and the
 * session lasts only as long as that token.
 */

import { isShopDomain, normalizeShop } from '../protocol/shop.ts';
import { authUrl, handleBegin } from './begin.ts';
import { readCookie, serializeCookie } from './cookies.ts';
import type { AuthRuntime } from './options.ts';
import { redirectResponse, textResponse } from './responses.ts';
import type { AppSession } from './types.ts';

/** What the session cookie says, after its signature checked out. */
export interface SessionClaims {
  shop: string;
  userId: string;
  /** Epoch milliseconds. */
  issuedAt: number;
}

const USER_ID = /^\d{1,20}$/;
const EPOCH_MS = /^\d{1,15}$/;

/** The `Set-Cookie` value of a new session for `shop`/`userId`, living `maxAgeSeconds` (the online token's lifetime). */
export function sessionCookie(rt: AuthRuntime, shop: string, userId: string, maxAgeSeconds: number): string {
  const value = rt.sessionSigner.sign(`${shop}.${userId}.${rt.now()}`);
  return serializeCookie(rt.cookies.session, value, { secure: rt.options.cookieSecure, maxAge: maxAgeSeconds });
}

/** The claims of the request's session cookie, or null when it is absent, malformed or not signed by us. */
export function readSessionCookie(rt: AuthRuntime, request: Request): SessionClaims | null {
  const raw = readCookie(request, rt.cookies.session);
  const value = raw === null ? null : rt.sessionSigner.verify(raw);
  if (value === null) return null;
  // The shop contains dots, so read the two numeric fields from the right.
  const parts = value.split('.');
  const issuedAt = parts.pop() ?? '';
  const userId = parts.pop() ?? '';
  const shop = parts.join('.');
  if (!isShopDomain(shop) || !USER_ID.test(userId) || !EPOCH_MS.test(issuedAt)) return null;
  return { shop, userId, issuedAt: Number(issuedAt) };
}

async function sessionFor(rt: AuthRuntime, claims: SessionClaims): Promise<AppSession | null> {
  const online = await rt.vault.online(claims.shop, claims.userId);
  if (!online) return null;
  return { shop: claims.shop, userId: claims.userId, online, offline: await rt.vault.offline(claims.shop) };
}

/** {@link Shoptoken.session}: the session, or null. */
export async function loadSession(rt: AuthRuntime, request: Request): Promise<AppSession | null> {
  const claims = readSessionCookie(rt, request);
  return claims ? sessionFor(rt, claims) : null;
}

/**
 * {@link Shoptoken.requireSession}: the session; or a redirect to the auth path when the shop is
 * known (from the cookie, or from a valid `?shop=` that takes precedence when it names another
 * shop); else 401. Since the shop's offline token exists, that redirect runs only the per-user leg.
 *
 * A request from Shopify to the App URL (an install request or an embedded admin load: it carries
 * `hmac` or `embedded=1`) without a session is answered exactly as the auth path would answer it —
 * its signature checked, the iframe left — so a bare redirect does not drop what Shopify sent.
 */
export async function requireSession(rt: AuthRuntime, request: Request): Promise<AppSession | Response> {
  const url = new URL(request.url);
  const params = url.searchParams;
  const shops = params.getAll('shop');
  const requestedShop = shops.length === 1 ? normalizeShop(shops[0]) : null;
  const claims = readSessionCookie(rt, request);
  const fromShopify = params.has('hmac') || params.get('embedded') === '1';
  if (claims && (requestedShop === null || requestedShop === claims.shop)) {
    const session = await sessionFor(rt, claims);
    if (session) return session;
    if (!fromShopify) return redirectResponse(authUrl(rt, claims.shop));
  }
  if (fromShopify) return handleBegin(rt, url);
  if (requestedShop) return redirectResponse(authUrl(rt, requestedShop));
  return textResponse(401, 'Not signed in: open the app from the Shopify admin, or start at the auth path with ?shop=');
}
