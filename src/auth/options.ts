/**
 * Checks {@link ShoptokenOptions} when the flow is built, reporting every problem at once, and
 * turns them into the runtime the handlers share.
 */

import { redirectUrlProblems } from '../config/load.ts';
import { secretList } from '../config/secret-list.ts';
import { ConfigError } from '../errors.ts';
import { parseScopes } from '../protocol/scopes.ts';
import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';
import type { TokenVault } from '../vault/types.ts';
import { mergeConfig } from './config-options.ts';
import { type CookieNames, cookieNames } from './cookies.ts';
import { createSigner, type Signer } from './signing.ts';
import { createMemoryStateStore, createStoredStateStore, type StateStore } from './state-store.ts';
import { createTokenTagger, type TokenTagger } from './token-tag.ts';
import type { ResolvedShoptokenOptions, ShoptokenOptions } from './types.ts';

/** Everything the handlers need; secrets live only in the signers and `secrets`. */
export interface AuthRuntime {
  options: ResolvedShoptokenOptions;
  /** Client secrets, current first. */
  secrets: readonly string[];
  vault: TokenVault;
  now: () => number;
  fetch: typeof fetch | undefined;
  stateStore: StateStore;
  stateSigner: Signer;
  sessionSigner: Signer;
  /** Binds session cookies to online tokens. */
  tokenTagger: TokenTagger;
  cookies: CookieNames;
  afterAuth: ShoptokenOptions['afterAuth'];
  afterLogin: ShoptokenOptions['afterLogin'];
}

type FlowPaths = Pick<
  ResolvedShoptokenOptions,
  'authPath' | 'callbackPath' | 'logoutPath' | 'redirectAfterAuth' | 'redirectAfterLogout'
>;

const SCOPE_HANDLE = /^(unauthenticated_)?(read|write)_[a-z][a-z0-9_]*$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const VAULT_METHODS = [
  'saveOffline',
  'saveOnline',
  'offline',
  'online',
  'deleteOnline',
  'markInstalled',
  'list',
] as const;
// The longest delay a Node timer (and so AbortSignal.timeout) honours.
const MAX_TIMEOUT_MS = 2_147_483_647;

const isFunction = (value: unknown): boolean => typeof value === 'function';

/** A path on the app: starts with one `/`, no query, fragment, backslash, whitespace or dot segments. */
function pathProblem(name: string, value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
    return `${name} must be a path starting with a single '/'`;
  }
  if (/[?#\\\s]/.test(value) || /(^|\/)\.\.?(\/|$)/.test(value)) {
    return `${name} must be a plain path (no query, fragment, backslash, whitespace or dot segments)`;
  }
  return null;
}

/** The flow's paths with their defaults; each must be a plain path, and none may answer for another. */
function flowPaths(o: Partial<ShoptokenOptions>, problems: string[]): FlowPaths {
  const authPath = o.authPath ?? '/auth';
  const paths: FlowPaths = {
    authPath,
    callbackPath: o.callbackPath ?? '/auth/callback',
    // Under the auth path by default: `/auth/logout`.
    logoutPath: o.logoutPath ?? (authPath === '/' ? '/logout' : `${authPath}/logout`),
    redirectAfterAuth: o.redirectAfterAuth ?? '/',
    redirectAfterLogout: o.redirectAfterLogout ?? '/',
  };
  for (const [name, value] of Object.entries(paths)) {
    // The default sign-out path is the auth path's: a problem there is reported once, under authPath.
    const problem = name === 'logoutPath' && o.logoutPath === undefined ? null : pathProblem(name, value);
    if (problem) problems.push(problem);
  }
  const { callbackPath, logoutPath, redirectAfterAuth, redirectAfterLogout } = paths;
  if (new Set([authPath, callbackPath, logoutPath]).size !== 3) {
    problems.push('authPath, callbackPath and logoutPath must differ');
  }
  if ([authPath, callbackPath, logoutPath].includes(redirectAfterAuth)) {
    problems.push('redirectAfterAuth must not be the auth, callback or logout path (it would loop)');
  }
  if ([callbackPath, logoutPath].includes(redirectAfterLogout)) {
    problems.push('redirectAfterLogout must not be the callback or logout path');
  }
  return paths;
}

function appOrigin(value: unknown, problems: string[]): string {
  let url: URL | null = null;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url) {
    problems.push('appUrl must be an absolute URL such as https://app.example.com');
    return '';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    problems.push('appUrl must use https (http is allowed only for localhost, 127.0.0.1 and [::1])');
  }
  if (url.username || url.password) problems.push('appUrl must not contain credentials');
  if (url.pathname !== '/' || url.search || url.hash) {
    problems.push('appUrl must be an origin only (no path, query or fragment)');
  }
  return url.origin;
}

function scopeList(value: unknown, problems: string[]): string[] {
  const valid = typeof value === 'string' || (Array.isArray(value) && value.every((s) => typeof s === 'string'));
  const scopes = valid ? parseScopes(value as string | string[]) : [];
  if (scopes.length === 0) {
    problems.push('scopes must list at least one access scope, e.g. "write_products,read_orders"');
    return [];
  }
  const bad = scopes.filter((scope) => !SCOPE_HANDLE.test(scope));
  if (bad.length > 0) problems.push(`scopes contains invalid handles: ${bad.join(', ')}`);
  return scopes;
}

/**
 * Validates `options` and builds the runtime. Throws one {@link ConfigError} listing every problem.
 */
export function resolveOptions(options: ShoptokenOptions): AuthRuntime {
  const problems: string[] = [];
  const { options: o, config, missing } = mergeConfig(options, problems);
  // A required setting missing from both the options and the configuration is reported once, with a hint.
  const checked = (name: string) => (missing.has(name) ? [] : problems);

  if (typeof o.apiKey !== 'string' || o.apiKey.trim().length === 0) {
    checked('apiKey').push('apiKey must be a non-empty string');
  }
  const secrets = secretList(o.apiSecret, checked('apiSecret'));
  const scopes = scopeList(o.scopes, checked('scopes'));
  const appUrl = appOrigin(o.appUrl, checked('appUrl'));

  const vault = o.vault as Partial<TokenVault> | undefined;
  if (typeof vault !== 'object' || vault === null || !VAULT_METHODS.every((m) => isFunction(vault[m]))) {
    problems.push(`vault must be a TokenVault (with ${VAULT_METHODS.join(', ')})`);
  }

  const paths = flowPaths(o, problems);
  const { callbackPath } = paths;
  if (config && appUrl && typeof callbackPath === 'string') {
    problems.push(...redirectUrlProblems(config, appUrl, callbackPath));
  }

  const shopifyBaseUrl = o.shopifyBaseUrl ?? DEFAULT_SHOPIFY_BASE_URL;
  const baseProblem = typeof shopifyBaseUrl === 'string' ? checkBaseUrlTemplate(shopifyBaseUrl) : 'must be a string';
  if (baseProblem) problems.push(`shopifyBaseUrl ${baseProblem}`);

  for (const name of ['expiringOfflineTokens', 'cookieSecure'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') problems.push(`${name} must be a boolean`);
  }
  for (const name of ['afterAuth', 'afterLogin', 'now', 'fetch'] as const) {
    if (o[name] !== undefined && !isFunction(o[name])) problems.push(`${name} must be a function`);
  }
  const exchangeTimeoutMs = o.exchangeTimeoutMs ?? 10_000;
  if (!Number.isInteger(exchangeTimeoutMs) || exchangeTimeoutMs < 1 || exchangeTimeoutMs > MAX_TIMEOUT_MS) {
    problems.push(`exchangeTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  }
  const store = o.stateStore as Partial<StateStore> | undefined;
  if (store !== undefined && (typeof store !== 'object' || !isFunction(store?.save) || !isFunction(store?.take))) {
    problems.push('stateStore must be a StateStore (with save and take)');
  }
  if (problems.length === 0 && typeof o.vault?.connectApp === 'function') {
    // The vault refreshes and calls the Admin API for this flow's app, on this flow's Shopify.
    const connection = { clientId: o.apiKey as string, secrets, baseUrl: shopifyBaseUrl, fetch: o.fetch };
    problems.push(...o.vault.connectApp(connection).map((problem) => `vault: ${problem}`));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const now = o.now ?? Date.now;
  const cookieSecure = o.cookieSecure ?? true;
  const resolved: ResolvedShoptokenOptions = Object.freeze({
    apiKey: o.apiKey as string,
    scopes: Object.freeze(scopes),
    appUrl,
    ...paths,
    redirectUri: `${appUrl}${callbackPath}`,
    expiringOfflineTokens: o.expiringOfflineTokens ?? true,
    shopifyBaseUrl,
    cookieSecure,
    exchangeTimeoutMs,
  });
  return {
    options: resolved,
    secrets: Object.freeze([...secrets]),
    vault: o.vault as TokenVault,
    now,
    fetch: o.fetch,
    // The vault's store by default, so every instance sharing it shares the pending states too.
    stateStore:
      o.stateStore ??
      (o.vault?.states ? createStoredStateStore(o.vault.states, { now }) : createMemoryStateStore({ now })),
    stateSigner: createSigner(secrets, 'oauth-state-cookie'),
    sessionSigner: createSigner(secrets, 'session-cookie'),
    tokenTagger: createTokenTagger(secrets),
    cookies: cookieNames(cookieSecure),
    afterAuth: o.afterAuth,
    afterLogin: o.afterLogin,
  };
}
