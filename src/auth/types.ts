/**
 * The public shapes of the install flow: its options, what the hooks see, and the browser session.
 */

import type { ShoptokenConfig } from '../config/load.ts';
import type { AssociatedUser } from '../protocol/tokens.ts';
import type { OfflineToken, OnlineToken, TokenVault } from '../vault/types.ts';
import type { StateStore } from './state-store.ts';

/**
 * Options of {@link createShoptoken}; all are checked when it is built. With `config` (from
 * `loadConfig`), every setting it holds is the default of the option of the same name, and an
 * option given here wins.
 */
export interface ShoptokenOptions {
  /**
   * The loaded configuration (`loadConfig({ env, cwd })`): `SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`,
   * `SCOPES`, `SHOPIFY_APP_URL`, `SHOPTOKEN_SHOPIFY_BASE_URL`, `shopify.app.toml`, … The callback
   * URL is then checked against its `[auth] redirect_urls`.
   */
  config?: ShoptokenConfig;
  /** The app's client id (API key); `config.apiKey` by default. */
  apiKey?: string;
  /** The app's client secret; a list during rotation, current first; `config.apiSecret` by default. */
  apiSecret?: string | readonly string[];
  /** The access scopes the app needs, as a comma-separated string or a list of handles; `config.scopes` by default. */
  scopes?: string | readonly string[];
  /** The app's origin, e.g. `https://app.example.com` (http only for localhost, 127.0.0.1 and [::1]); `config.appUrl` by default. */
  appUrl?: string;
  /** Where tokens are kept. */
  vault: TokenVault;
  /** Path that starts the flow; default `/auth`. */
  authPath?: string;
  /** Path Shopify redirects back to; default `/auth/callback`. `appUrl + callbackPath` is the redirect URL to register. */
  callbackPath?: string;
  /** Where to send the browser after auth: a path on the app (default `/`); `shop` and `host` are appended as query. */
  redirectAfterAuth?: string;
  /**
   * The sign-out path (POST only; default `{authPath}/logout`, so `/auth/logout`): it deletes the
   * signed-in user's online token from the vault, clears the session cookie and redirects (303) to
   * `redirectAfterLogout`. A request whose `Origin` is not `appUrl` is refused (403).
   */
  logoutPath?: string;
  /** Where to send the browser after sign-out: a path on the app; default `/`. */
  redirectAfterLogout?: string;
  /** Ask for expiring offline tokens (1 h access token plus a refresh token kept by the vault); default true. */
  expiringOfflineTokens?: boolean;
  /** Base-URL template of Shopify; `config.shopifyBaseUrl`, else `https://{shop}`; the emulator gives `http://127.0.0.1:PORT/{shop}`. */
  shopifyBaseUrl?: string;
  /**
   * Called once per install, with BOTH tokens, when the first sign-in of the install completes; once
   * it resolves the vault marks the install complete (`OfflineToken.installedAt`). Errors it throws
   * propagate out of `handle()` and leave the install unmarked: it is retried on the next sign-in
   * until it succeeds; make it idempotent. Re-minting the offline token (expiry, new scopes) of an
   * installed shop does not call it again; a reinstall does (`app/uninstalled` deleted the shop's
   * tokens, or the sign-in found the stored token refused by Shopify).
   */
  afterAuth?: (ctx: AfterAuthContext) => void | Promise<void>;
  /** Called when a user signed in to a shop whose install is complete (instead of `afterAuth`). */
  afterLogin?: (ctx: AfterLoginContext) => void | Promise<void>;
  /** Default true. Set false only for local http demos: drops `Secure` and the `__Host-` cookie prefix. */
  cookieSecure?: boolean;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
  /** The fetch used for token requests; default the global fetch. */
  fetch?: typeof fetch;
  /** How long the code exchange may take before the callback answers 504; default 10,000 ms. */
  exchangeTimeoutMs?: number;
  /** Where pending OAuth states live; default an in-memory store (one process). */
  stateStore?: StateStore;
}

/**
 * What `afterAuth` sees: the install just completed with both tokens. `afterAuth` is retried on the
 * next sign-in until it succeeds; make it idempotent.
 */
export interface AfterAuthContext {
  shop: string;
  offline: OfflineToken;
  online: OnlineToken;
  user: AssociatedUser;
  /** Scopes granted to the app on the shop. */
  grantedScopes: string[];
  /** Configured scopes that the installing user's own permissions do not cover. */
  missingUserScopes: string[];
}

/** What `afterLogin` sees: a user signed in to an already installed shop. */
export interface AfterLoginContext {
  shop: string;
  offline: OfflineToken;
  online: OnlineToken;
  user: AssociatedUser;
  /** Configured scopes that this user's own permissions do not cover. */
  missingUserScopes: string[];
}

/** The signed-in browser's session: the user's online token and the shop's offline token. */
export interface AppSession {
  shop: string;
  userId: string;
  online: OnlineToken;
  offline: OfflineToken | null;
}

/** The options after checking, without secrets, vault or hooks. */
export interface ResolvedShoptokenOptions {
  readonly apiKey: string;
  readonly scopes: readonly string[];
  /** The app's origin (no trailing slash). */
  readonly appUrl: string;
  readonly authPath: string;
  readonly callbackPath: string;
  /** The sign-out path (POST). */
  readonly logoutPath: string;
  /** `appUrl + callbackPath`: the redirect URL to register with Shopify. */
  readonly redirectUri: string;
  readonly redirectAfterAuth: string;
  readonly redirectAfterLogout: string;
  readonly expiringOfflineTokens: boolean;
  readonly shopifyBaseUrl: string;
  readonly cookieSecure: boolean;
  readonly exchangeTimeoutMs: number;
}

/** The install flow as a web-standard handler. */
export interface Shoptoken {
  /**
   * Handles `authPath` and `callbackPath` (GET; HEAD runs only the checks that change nothing) and
   * `logoutPath` (POST); any other method there gets 405 with `Allow`. Returns null for any other path
   * (the adapter then calls next()). Never answers 5xx for a bad request: 502/504 only when Shopify
   * fails, 500 when Shopify refuses the app's own credentials; errors of the vault, the state store or
   * `afterAuth`/`afterLogin` propagate.
   */
  handle(request: Request): Promise<Response | null>;
  /**
   * The browser's session from the signed session cookie: null when absent or invalid, when the online
   * token it was issued with expired, was replaced (a new sign-in) or signed out, or while the shop's
   * offline token needs the merchant to authorize the app again.
   */
  session(request: Request): Promise<AppSession | null>;
  /**
   * For protected pages: the session, or a Response. A cookie that opens no session is answered as no
   * cookie: a redirect to the auth path for a valid `?shop=`, else 401. A live session of a shop whose
   * offline token needs re-authorization gets a redirect to the auth path (whose offline leg re-mints
   * it). A request Shopify sent to the App URL (it carries `hmac` or `embedded=1`) without a session is
   * answered as the auth path answers it: 400 for a bad signature, the iframe-escape page when
   * embedded, else the start of the flow.
   */
  requireSession(request: Request): Promise<AppSession | Response>;
  readonly options: ResolvedShoptokenOptions;
}
