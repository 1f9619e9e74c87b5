/**
 * `GET {authPath}?shop=…`: checks the request, leaves the admin iframe when embedded, decides which
 * leg to run and starts it (state, signed state cookie, redirect to Shopify's authorize page).
 */

import { randomBytes } from 'node:crypto';
import { authorizeUrl } from '../protocol/authorize.ts';
import { coversScopes } from '../protocol/scopes.ts';
import { normalizeShop } from '../protocol/shop.ts';
import { verifySignedQuery } from '../protocol/signed-query.ts';
import { serializeCookie } from './cookies.ts';
import { needsReauth, stillInstalled } from './offline-usable.ts';
import type { AuthRuntime } from './options.ts';
import { escapeIframeResponse, redirectResponse, textResponse } from './responses.ts';
import { type AuthLeg, STATE_TTL_SECONDS } from './state-store.ts';

/** The auth path for `shop` on the app's own origin: where restarts and re-logins go. */
export function authUrl(rt: AuthRuntime, shop: string): string {
  const url = new URL(rt.options.authPath, rt.options.appUrl);
  url.searchParams.set('shop', shop);
  return url.href;
}

/**
 * Issues a state for `leg` (>= 128 bits, single use, bound to `shop`), sets the signed state cookie
 * and redirects to Shopify's authorize page: offline for `install`, per-user for `login`.
 */
export async function startLeg(rt: AuthRuntime, shop: string, leg: AuthLeg): Promise<Response> {
  const state = randomBytes(32).toString('base64url');
  await rt.stateStore.save({ state, shop, leg, createdAt: rt.now() });
  const cookie = serializeCookie(rt.cookies.state, rt.stateSigner.sign(state), {
    secure: rt.options.cookieSecure,
    maxAge: STATE_TTL_SECONDS,
  });
  const location = authorizeUrl({
    baseUrl: rt.options.shopifyBaseUrl,
    shop,
    clientId: rt.options.apiKey,
    scopes: rt.options.scopes,
    redirectUri: rt.options.redirectUri,
    state,
    perUser: leg === 'login',
  });
  return redirectResponse(location.href, [cookie]);
}

/**
 * Handles `GET {authPath}`. For HEAD (`head`) only the checks that change nothing run: it answers
 * their 400, the iframe-escape page, or an empty 200 — it never issues a state.
 */
export async function handleBegin(rt: AuthRuntime, url: URL, head = false): Promise<Response> {
  const params = url.searchParams;
  const shops = params.getAll('shop');
  const shop = shops.length === 1 ? normalizeShop(shops[0]) : null;
  if (!shop) return textResponse(400, 'Invalid shop: expected ?shop={name}.myshopify.com');

  // Shopify's install request and admin launches are signed; when they are, check them fully.
  if (params.has('hmac')) {
    const checked = verifySignedQuery(params, { secrets: rt.secrets, now: rt.now() });
    if (!checked.ok) return textResponse(400, `Invalid request from Shopify: ${checked.message}`);
  }

  // The signature covered `embedded=1`, so the top-level URL carries only the (checked) shop.
  if (params.get('embedded') === '1') return escapeIframeResponse(authUrl(rt, shop));
  if (head) return textResponse(200, '');

  return startLeg(rt, shop, await chooseLeg(rt, shop));
}

/**
 * The per-user leg alone when the shop's offline token is usable: it covers the configured scopes,
 * Shopify has not refused it for good (see {@link needsReauth}: marked `needs_reauth`, or its
 * refresh token lapsed), it has not expired — an expiring one that has is refreshed first, as any
 * use of it would be — and Shopify still accepts it ({@link stillInstalled}). Otherwise the install
 * leg mints a new offline token first (stored `active`): a re-mint when the shop was installed
 * before, so not a new install (the sign-in after it calls `afterLogin`), unless Shopify refused the
 * stored token itself (an uninstall: the install is a new one).
 */
async function chooseLeg(rt: AuthRuntime, shop: string): Promise<AuthLeg> {
  let offline = await rt.vault.offline(shop);
  if (!offline || !coversScopes(offline.scopes, rt.options.scopes)) return 'install';
  const now = rt.now();
  if (needsReauth(offline, now)) return 'install';
  if (offline.expiresAt !== null && offline.expiresAt.getTime() <= now) {
    if (!offline.expiring || !rt.vault.token) return 'install';
    try {
      offline = await rt.vault.token(shop);
    } catch {
      // Refused for good (the shop is marked), Shopify unreachable, …: the offline leg mints a new one.
      return 'install';
    }
  }
  return (await stillInstalled(rt, shop, offline)) ? 'login' : 'install';
}
