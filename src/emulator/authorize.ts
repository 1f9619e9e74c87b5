/**
 * `GET|POST /{shop}/admin/oauth/authorize`: the grant screen of the authorization code grant, and
 * `GET /{shop}/admin/logout`. Redirects back to the app exactly as Shopify does: `code`, `hmac`,
 * `host`, `shop`, `state`, `timestamp`, signed with the app's client secret.
 */

import { signQuery } from '../protocol/hmac.ts';
import { coversScopes, parseScopes } from '../protocol/scopes.ts';
import { type AuthorizeRequest, cancelledPage, consentPage, signInPage } from './consent-pages.ts';
import { errorPage, html, page } from './html.ts';
import { mediaType, readBody, sessionCookie, sessionId } from './http.ts';
import { SCOPE_HANDLE } from './options.ts';
import { type ShopState, userHasScope } from './shops.ts';
import type { EmulatorState } from './state.ts';

const MAX_STATE_LENGTH = 512;

/** The single value of `key`; `null` when absent or repeated. */
function single(params: URLSearchParams, key: string): string | null {
  const values = params.getAll(key);
  return values.length === 1 ? values[0]! : null;
}

/**
 * The scopes an authorize request asks for: its `scope` list, or — when `scope` is absent, "as it
 * should be if you've pushed requested API access scopes with the TOML file" (reference §1.2) —
 * the app's configured scopes. Returns what is wrong instead when neither gives any.
 */
function requestedScopes(
  params: URLSearchParams,
  configured: readonly string[],
): Pick<AuthorizeRequest, 'scope' | 'scopes' | 'scopesFromConfig'> | string {
  const values = params.getAll('scope');
  if (values.length > 1) return 'The scope parameter may appear at most once.';
  const scope = values[0] ?? null;
  // UNCONFIRMED: how Shopify reads an empty `scope=`. Treated like an absent one: Shopify's JS
  // library (reference §1.2) and src/protocol/authorize.ts always send `scope`, so an app whose
  // code lists no scopes (the TOML manages them) sends `scope=`, and "omit the parameter" is what
  // the docs ask of exactly those apps. Refusing it would fail them for a spelling.
  if (scope === null || scope === '') {
    if (configured.length === 0) {
      return 'The scope parameter is required: this app has no access scopes in its configuration (shopify.app.toml [access_scopes] scopes).';
    }
    return { scope, scopes: parseScopes(configured), scopesFromConfig: true };
  }
  const parts = scope.split(',').map((part) => part.trim());
  if (!parts.every((part) => SCOPE_HANDLE.test(part))) {
    return 'The scope parameter must be a comma-separated list of access scopes such as read_products.';
  }
  return { scope, scopes: parseScopes(parts), scopesFromConfig: false };
}

/** Checks an authorize request (query or form); returns the request or what is wrong with it. */
function parseAuthorize(state: EmulatorState, params: URLSearchParams): AuthorizeRequest | string {
  const clientId = single(params, 'client_id');
  const app = clientId === null ? undefined : state.apps.get(clientId);
  if (!app) return 'The client_id is not the id of any app known to this store.';
  const redirectUri = single(params, 'redirect_uri');
  if (redirectUri === null || !app.redirectUrls.includes(redirectUri)) {
    return 'The redirect_uri is not whitelisted: it must exactly match one of the app’s redirect URLs.';
  }
  const scope = requestedScopes(params, app.scopes);
  if (typeof scope === 'string') return scope;
  const stateParam = single(params, 'state');
  if (!stateParam || stateParam.length > MAX_STATE_LENGTH) {
    return `The state parameter is required (1 to ${MAX_STATE_LENGTH} characters).`;
  }
  const grantOptions = params.getAll('grant_options[]');
  if (grantOptions.length > 1 || (grantOptions[0] !== undefined && !['', 'per-user'].includes(grantOptions[0]))) {
    return 'grant_options[] must be per-user (online access) or empty (offline access).';
  }
  return {
    clientId: app.clientId,
    appName: app.name,
    ...scope,
    redirectUri,
    state: stateParam,
    grantOptions: grantOptions[0] ?? null,
    accessMode: grantOptions[0] === 'per-user' ? 'online' : 'offline',
  };
}

/** The `host` parameter: base64 of the shop's admin host, padding removed. */
function hostParam(shop: string): string {
  const name = shop.slice(0, -'.myshopify.com'.length);
  return Buffer.from(`admin.shopify.com/store/${name}`).toString('base64').replace(/=+$/, '');
}

function isCovered(shop: ShopState, req: AuthorizeRequest): boolean {
  const granted = shop.installations.get(req.clientId);
  return granted !== undefined && coversScopes(granted, req.scopes);
}

/** The signed-in user of the shop's admin, if the session cookie names one. */
function signedInUser(state: EmulatorState, request: Request, shop: ShopState): string | undefined {
  const userId = state.session(sessionId(request), shop.domain);
  return shop.users.some((user) => user.id === userId) ? userId : undefined;
}

/** 302 back to the app with a fresh code, signed as Shopify signs it. */
function redirectWithCode(
  state: EmulatorState,
  shop: ShopState,
  req: AuthorizeRequest,
  userId: string,
  cookie?: string,
): Response {
  const code = state.issueCode({
    shop: shop.domain,
    clientId: req.clientId,
    accessMode: req.accessMode,
    userId,
    scopes: req.scopes,
  });
  const target = new URL(req.redirectUri);
  target.searchParams.set('code', code);
  target.searchParams.set('host', hostParam(shop.domain));
  target.searchParams.set('shop', shop.domain);
  target.searchParams.set('state', req.state);
  target.searchParams.set('timestamp', String(Math.floor(state.now() / 1000)));
  target.searchParams.set('hmac', signQuery(target.searchParams, state.apps.get(req.clientId)!.clientSecret));
  const headers = new Headers({ location: target.href, 'cache-control': 'no-store' });
  if (cookie) headers.set('set-cookie', cookie);
  return new Response(null, { status: 302, headers });
}

/** `GET /{shop}/admin/oauth/authorize` */
export function authorizeGet(state: EmulatorState, request: Request, domain: string): Response {
  const req = parseAuthorize(state, new URL(request.url).searchParams);
  if (typeof req === 'string') return errorPage(400, req);
  const shop = state.shop(domain);
  const userId = signedInUser(state, request, shop);
  if (!isCovered(shop, req)) return consentPage(shop, req, userId);
  return userId ? redirectWithCode(state, shop, req, userId) : signInPage(shop, req);
}

/** `POST /{shop}/admin/oauth/authorize`: the consent or sign-in form. */
export async function authorizePost(state: EmulatorState, request: Request, domain: string): Promise<Response> {
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== new URL(request.url).origin) {
    return errorPage(403, 'This form may only be submitted from the emulator’s own pages.');
  }
  if (mediaType(request) !== 'application/x-www-form-urlencoded') return errorPage(400, 'Expected a form submission.');
  const body = await readBody(request);
  if (body === null) return errorPage(413, 'The form is too large.');
  const form = new URLSearchParams(body);
  const req = parseAuthorize(state, form);
  if (typeof req === 'string') return errorPage(400, req);
  const shop = state.shop(domain);
  const user = shop.users.find((candidate) => candidate.id === single(form, 'user_id'));
  if (!user) return errorPage(400, 'Choose a staff user of this store.');

  const signIn = () => {
    const id = state.signIn(shop.domain, user.id, sessionId(request));
    return redirectWithCode(state, shop, req, user.id, sessionCookie(shop.domain, id));
  };
  switch (single(form, 'action')) {
    case 'cancel':
      return cancelledPage(req);
    case 'install': {
      const missing = req.scopes.filter((scope) => !userHasScope(user, scope));
      if (!shop.installations.has(req.clientId) && missing.length > 0) {
        // §9: "the user installing the app must have access to all required scopes, or the
        // installation fails" — for online access, and for offline access in the older docs.
        return errorPage(
          403,
          `The user installing the app must have access to all required scopes. Missing: ${missing.join(', ')}.`,
        );
      }
      state.install(shop, req.clientId, req.scopes);
      return signIn();
    }
    case 'login':
      if (!isCovered(shop, req)) return errorPage(403, 'The app must be installed with these scopes first.');
      return signIn();
    default:
      return errorPage(400, 'Unknown action.');
  }
}

/**
 * `GET /{shop}/admin/logout?return_to=…`: signs the user out of the shop's admin. `return_to` is
 * followed only to the origin of a registered redirect URL (no open redirect).
 */
export function logout(state: EmulatorState, request: Request, domain: string): Response {
  state.signOut(sessionId(request));
  const cookie = { 'set-cookie': sessionCookie(domain, '') };
  const returnTo = new URL(request.url).searchParams.get('return_to');
  const allowed = [...state.apps.values()].some((app) =>
    app.redirectUrls.some(
      (url) => returnTo !== null && URL.canParse(returnTo) && new URL(url).origin === new URL(returnTo).origin,
    ),
  );
  if (returnTo !== null && allowed) {
    return new Response(null, { status: 302, headers: { location: new URL(returnTo).href, ...cookie } });
  }
  return page(200, 'Signed out', html`<h1 id="signed-out">You are signed out of ${domain}</h1>`, cookie);
}
