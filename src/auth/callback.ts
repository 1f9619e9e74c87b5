/**
 * `GET {callbackPath}`: Shopify's redirect back with an authorization code. Every check runs before
 * anything is stored, and each failing check alone answers with a 4xx that stores nothing (a 5xx
 * only when Shopify itself fails, or refuses the app's own credentials: see exchange-failure.ts):
 *
 * 1. shop, then hmac and timestamp (Shopify's signature over the query), then the code — neither the
 *    state nor the browser's state cookie is touched, so a forged callback link cannot break an
 *    install in progress;
 * 2. the signed state cookie (missing: restart the flow), equal to the query's `state`, known to the
 *    state store for this shop — then consumed, so a callback cannot be replayed; from here on every
 *    answer clears the state cookie;
 * 3. the code exchange (bounded by `exchangeTimeoutMs`), whose token kind must match the leg and
 *    whose scopes must cover the app's. A code Shopify refuses, or a token of the other kind (the
 *    user edited `grant_options[]` in the authorize URL), gets a 400 page that restarts the flow.
 *
 * A HEAD request runs only step 1 and answers its 400 or an empty 200: no state is consumed and no
 * code exchanged.
 *
 * The install leg stores the offline token and chains straight into the per-user leg (Shopify skips
 * the consent screen, the scopes being granted); the login leg stores the online token, calls
 * `afterAuth` while the shop's install is not yet marked complete (then marks it) or `afterLogin`
 * otherwise, sets the session cookie and sends the browser to `redirectAfterAuth` on the app's own
 * origin.
 */

import { coversScopes, missingScopes } from '../protocol/scopes.ts';
import { verifySignedQuery } from '../protocol/signed-query.ts';
import { exchangeAuthorizationCode, type OnlineTokenResponse, type TokenResponse } from '../protocol/tokens.ts';
import { authUrl, startLeg } from './begin.ts';
import { clearCookie, readCookie } from './cookies.ts';
import { exchangeFailureResponse } from './exchange-failure.ts';
import { isValidHostParam } from './host-param.ts';
import { needsReauth } from './offline-usable.ts';
import type { AuthRuntime } from './options.ts';
import { redirectResponse, restartResponse, textResponse } from './responses.ts';
import { sessionCookie } from './session.ts';
import { safeEqual } from './signing.ts';
import { STATE_TTL_SECONDS, type StateRecord } from './state-store.ts';

const CODE = /^[A-Za-z0-9._~-]{1,512}$/;
const RESTART_HINT = 'start again from the app';

/** Where the browser goes once signed in: always on the app's origin, never a target taken from the query. */
function afterAuthUrl(rt: AuthRuntime, shop: string, host: string | null): string {
  const url = new URL(rt.options.redirectAfterAuth, rt.options.appUrl);
  url.searchParams.set('shop', shop);
  if (isValidHostParam(host)) url.searchParams.set('host', host);
  return url.href;
}

/** Checks the state cookie against the query and consumes the state; a Response when it fails. */
async function takeState(
  rt: AuthRuntime,
  request: Request,
  params: URLSearchParams,
  shop: string,
  clearState: string,
): Promise<StateRecord | Response> {
  const raw = readCookie(request, rt.cookies.state);
  // No cookie (expired, or another browser): not an attack we can tell apart, so restart cleanly.
  if (raw === null) return redirectResponse(authUrl(rt, shop), [clearState]);
  const cookieState = rt.stateSigner.verify(raw);
  if (cookieState === null)
    return textResponse(403, `The OAuth state cookie is invalid; ${RESTART_HINT}`, [clearState]);
  const states = params.getAll('state');
  if (states.length !== 1 || !safeEqual(cookieState, states[0]!)) {
    return textResponse(403, `The OAuth state does not match this browser's; ${RESTART_HINT}`, [clearState]);
  }
  const record = await rt.stateStore.take(cookieState);
  const fresh = record !== null && rt.now() - record.createdAt <= STATE_TTL_SECONDS * 1000;
  if (!record || !fresh || record.shop !== shop) {
    return textResponse(403, `The OAuth state is unknown, used, expired or for another shop; ${RESTART_HINT}`, [
      clearState,
    ]);
  }
  return record;
}

const at = (now: number, seconds: number | null): Date | null =>
  seconds === null ? null : new Date(now + seconds * 1000);

/**
 * Exchanges `code` and checks the answer against the leg; an offline token is saved here (the
 * caller serializes this with the shop's other offline grants). Returns the response to send when
 * the code cannot serve the leg, `offline_saved`, or the online token to save.
 */
async function exchangeCode(
  rt: AuthRuntime,
  shop: string,
  code: string,
  offlineLeg: boolean,
  clearState: string,
): Promise<Response | 'offline_saved' | OnlineTokenResponse> {
  let token: TokenResponse;
  const deadline = AbortSignal.timeout(rt.options.exchangeTimeoutMs);
  try {
    const endpoint = {
      baseUrl: rt.options.shopifyBaseUrl,
      shop,
      clientId: rt.options.apiKey,
      clientSecret: rt.secrets[0]!,
      fetch: rt.fetch,
      signal: deadline,
    };
    // `expiring` applies to offline codes only, so the per-user leg does not send it.
    token = await exchangeAuthorizationCode(
      endpoint,
      offlineLeg ? { code, expiring: rt.options.expiringOfflineTokens } : { code },
    );
  } catch (error) {
    const failed = exchangeFailureResponse(rt, shop, error, deadline.aborted, [clearState]);
    if (failed) return failed;
    throw error;
  }

  const expected = offlineLeg ? 'offline' : 'online';
  if (token.kind !== expected) {
    // The user edited `grant_options[]` in the authorize URL: this code cannot serve this leg.
    const message = `Shopify returned an ${token.kind} access token where this step asked for an ${expected} one (the sign-in link was changed). Nothing was saved.`;
    return restartResponse(400, message, authUrl(rt, shop), [clearState]);
  }
  if (!coversScopes(token.scopes, rt.options.scopes)) {
    const missing = missingScopes(rt.options.scopes, token.scopes);
    return textResponse(403, `Shopify granted fewer scopes than the app needs (missing: ${missing.join(', ')})`, [
      clearState,
    ]);
  }
  if (token.kind === 'online') return token;
  // Shopify had refused the stored token itself: the app was uninstalled, so this is a new install
  // (afterAuth runs again), not a re-mint of the old one.
  const previous = await rt.vault.offline(shop);
  if (previous?.needsReauthReason === 'admin_unauthorized') await rt.vault.deleteShop?.(shop);
  const now = rt.now();
  await rt.vault.saveOffline({
    shop,
    accessToken: token.accessToken,
    scopes: token.scopes,
    expiresAt: at(now, token.expiresIn),
    refreshToken: token.refreshToken,
    refreshTokenExpiresAt: at(now, token.refreshTokenExpiresIn),
    // A reinstall: a late `app/uninstalled` of the previous install must not delete this token.
    authorizedAt: new Date(now),
  });
  return 'offline_saved';
}

/** Handles `GET {callbackPath}` (and HEAD: see above). */
export async function handleCallback(rt: AuthRuntime, request: Request, url: URL, head = false): Promise<Response> {
  const params = url.searchParams;

  // Before the state is examined a failure sets no cookie: the browser keeps its pending state.
  const checked = verifySignedQuery(params, { secrets: rt.secrets, now: rt.now() });
  if (!checked.ok) {
    if (checked.code === 'ERR_INVALID_SHOP') return textResponse(400, 'Invalid shop: expected {name}.myshopify.com');
    return textResponse(400, `Invalid callback from Shopify: ${checked.message}`);
  }
  const shop = checked.shop;
  const codes = params.getAll('code');
  const code = codes.length === 1 && CODE.test(codes[0]!) ? codes[0]! : null;
  if (code === null) return textResponse(400, 'The callback has no valid authorization code');
  if (head) return textResponse(200, '');

  const clearState = clearCookie(rt.cookies.state, rt.options.cookieSecure);
  const record = await takeState(rt, request, params, shop, clearState);
  if (record instanceof Response) return record;

  // An offline code's exchange and the save of its pair run as the shop's only offline grant across
  // every instance: Shopify's newest pair retires the one before, so they are stored in the order
  // Shopify issued them (two installs of one shop finishing at once must not keep the retired pair).
  const offlineLeg = record.leg === 'install';
  const exchangeAndSave = () => exchangeCode(rt, shop, code, offlineLeg, clearState);
  const exchanged =
    offlineLeg && rt.vault.withOfflineGrant
      ? await rt.vault.withOfflineGrant(shop, exchangeAndSave)
      : await exchangeAndSave();
  if (exchanged instanceof Response) return exchanged;
  // The offline leg is done: the new leg's state cookie replaces the consumed one.
  if (exchanged === 'offline_saved') return startLeg(rt, shop, 'login');
  const token = exchanged;
  const now = rt.now();
  const online = await rt.vault.saveOnline({
    shop,
    accessToken: token.accessToken,
    scopes: token.scopes,
    associatedUserScopes: token.associatedUserScopes,
    expiresAt: new Date(now + token.expiresIn * 1000),
    user: token.associatedUser,
  });
  const offline = await rt.vault.offline(shop);
  // The offline token vanished between the legs (e.g. an uninstall), or Shopify refused it for good
  // meanwhile: run the flow again from the start, whose offline leg mints a new one. No hook sees it.
  if (!offline || needsReauth(offline, rt.now())) return redirectResponse(authUrl(rt, shop), [clearState]);

  const user = online.user;
  const missingUserScopes = missingScopes(rt.options.scopes, token.associatedUserScopes);
  // The install completes on the first sign-in after which afterAuth succeeded, whichever leg led
  // here: a flow cut short after the offline leg, or an afterAuth that threw, is retried next time.
  // Claimed first (vault.completeInstall), so two browsers or instances finishing one install at
  // once call afterAuth once; the other signs in (afterLogin).
  let installed = offline.installedAt !== null;
  if (!installed) {
    const afterAuth = (current: typeof offline) =>
      rt.afterAuth?.({ shop, offline: current, online, user, grantedScopes: [...current.scopes], missingUserScopes });
    if (rt.vault.completeInstall) {
      installed = (await rt.vault.completeInstall(shop, afterAuth)) === 'already_installed';
    } else {
      await afterAuth(offline);
      await rt.vault.markInstalled(shop);
    }
  }
  if (installed) await rt.afterLogin?.({ shop, offline, online, user, missingUserScopes });
  const cookies = [clearState, sessionCookie(rt, shop, online.userId, token.accessToken, token.expiresIn)];
  return redirectResponse(afterAuthUrl(rt, shop, params.get('host')), cookies);
}
