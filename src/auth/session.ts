/**
 * The browser session: a signed cookie `{shop}.{userId}.{tag}.{signature}` that names the signed-in
 * staff user and is bound to the online token it was issued with (`tag`, see token-tag.ts). It holds
 * no token; the user's online token stays in the vault. On every read the cookie is checked against
 * the token stored now: once that token expires, is replaced by a new sign-in or is deleted by a
 * sign-out, the cookie opens no session — and is answered exactly as a missing or forged one.
 */

import { isShopDomain, normalizeShop } from '../protocol/shop.ts';
import { authUrl, handleBegin } from './begin.ts';
import { readCookie, serializeCookie } from './cookies.ts';
import { needsReauth } from './offline-usable.ts';
import type { AuthRuntime } from './options.ts';
import { redirectResponse, textResponse } from './responses.ts';
import { TOKEN_TAG } from './token-tag.ts';
import type { AppSession } from './types.ts';

/** What the session cookie says, after its signature checked out. */
export interface SessionClaims {
  shop: string;
  userId: string;
  /** The tag of the online token the cookie was issued with. */
  tag: string;
}

/** A cookie's session: found; or the user is signed in but the shop must authorize the app again; or none. */
type Lookup = { kind: 'session'; session: AppSession } | { kind: 'reauth' } | { kind: 'none' };

const USER_ID = /^\d{1,20}$/;
const NONE: Lookup = { kind: 'none' };

/**
 * The `Set-Cookie` value of a new session for `shop`/`userId`, bound to `accessToken` (the online
 * token just stored) and living `maxAgeSeconds` (that token's lifetime).
 */
export function sessionCookie(
  rt: AuthRuntime,
  shop: string,
  userId: string,
  accessToken: string,
  maxAgeSeconds: number,
): string {
  const value = rt.sessionSigner.sign(`${shop}.${userId}.${rt.tokenTagger.tag(accessToken)}`);
  return serializeCookie(rt.cookies.session, value, { secure: rt.options.cookieSecure, maxAge: maxAgeSeconds });
}

/** The claims of the request's session cookie, or null when it is absent, malformed or not signed by us. */
export function readSessionCookie(rt: AuthRuntime, request: Request): SessionClaims | null {
  const raw = readCookie(request, rt.cookies.session);
  const value = raw === null ? null : rt.sessionSigner.verify(raw);
  if (value === null) return null;
  // The shop contains dots, so read the two other fields from the right.
  const parts = value.split('.');
  const tag = parts.pop() ?? '';
  const userId = parts.pop() ?? '';
  const shop = parts.join('.');
  if (!isShopDomain(shop) || !USER_ID.test(userId) || !TOKEN_TAG.test(tag)) return null;
  return { shop, userId, tag };
}

/**
 * The session the claims name, if the user's stored online token is unexpired and the one the
 * cookie was issued with; `reauth` when it is but the shop's offline token needs the merchant.
 */
async function lookup(rt: AuthRuntime, claims: SessionClaims): Promise<Lookup> {
  const online = await rt.vault.online(claims.shop, claims.userId);
  if (!online || !rt.tokenTagger.matches(claims.tag, online.accessToken)) return NONE;
  const offline = await rt.vault.offline(claims.shop);
  if (offline && needsReauth(offline, rt.now())) return { kind: 'reauth' };
  return { kind: 'session', session: { shop: claims.shop, userId: claims.userId, online, offline } };
}

/**
 * The signed-in user of the request, when its cookie is bound to the user's current online token
 * (whatever the shop's offline token): what a sign-out revokes.
 */
export async function signedInUser(rt: AuthRuntime, request: Request): Promise<SessionClaims | null> {
  const claims = readSessionCookie(rt, request);
  if (!claims) return null;
  const online = await rt.vault.online(claims.shop, claims.userId);
  return online && rt.tokenTagger.matches(claims.tag, online.accessToken) ? claims : null;
}

/** {@link Shoptoken.session}: the session, or null (also while the shop must authorize the app again). */
export async function loadSession(rt: AuthRuntime, request: Request): Promise<AppSession | null> {
  const claims = readSessionCookie(rt, request);
  if (!claims) return null;
  const found = await lookup(rt, claims);
  return found.kind === 'session' ? found.session : null;
}

/**
 * {@link Shoptoken.requireSession}: the session; else a Response. A cookie that opens no session
 * (absent, forged, or bound to a token that expired, was replaced or was signed out) is answered
 * exactly alike: a redirect to the auth path for a valid `?shop=`, else 401. A live session of a
 * shop whose offline token Shopify refused for good is not served: the browser goes to the auth
 * path, whose offline leg mints a new token.
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
    const found = await lookup(rt, claims);
    if (found.kind === 'session') return found.session;
    if (found.kind === 'reauth' && !fromShopify) return redirectResponse(authUrl(rt, claims.shop));
  }
  if (fromShopify) return handleBegin(rt, url, request.method === 'HEAD');
  if (requestedShop) return redirectResponse(authUrl(rt, requestedShop));
  return textResponse(401, 'Not signed in: open the app from the Shopify admin, or start at the auth path with ?shop=');
}
