/**
 * Checks {@link ShoptokenOptions} when the flow is built, reporting every problem at once, and
 * turns them into the runtime the handlers share.
 */

import { ConfigError } from '../errors.ts';
import { parseScopes } from '../protocol/scopes.ts';
import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';
import type { TokenVault } from '../vault/types.ts';
import { type CookieNames, cookieNames } from './cookies.ts';
import { createSigner, type Signer } from './signing.ts';
import { createMemoryStateStore, type StateStore } from './state-store.ts';
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
  cookies: CookieNames;
  afterAuth: ShoptokenOptions['afterAuth'];
  afterLogin: ShoptokenOptions['afterLogin'];
}

const SCOPE_HANDLE = /^(unauthenticated_)?(read|write)_[a-z][a-z0-9_]*$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const VAULT_METHODS = ['saveOffline', 'saveOnline', 'offline', 'online', 'markInstalled', 'list'] as const;
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

function secretList(value: unknown, problems: string[]): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : null;
  if (!list || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    problems.push('apiSecret must be a non-empty string or a non-empty list of non-empty strings (current first)');
    return [];
  }
  return list as string[];
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
  const o = (options ?? {}) as Partial<ShoptokenOptions>;

  if (typeof o.apiKey !== 'string' || o.apiKey.trim().length === 0) problems.push('apiKey must be a non-empty string');
  const secrets = secretList(o.apiSecret, problems);
  const scopes = scopeList(o.scopes, problems);
  const appUrl = appOrigin(o.appUrl, problems);

  const vault = o.vault as Partial<TokenVault> | undefined;
  if (typeof vault !== 'object' || vault === null || !VAULT_METHODS.every((m) => isFunction(vault[m]))) {
    problems.push(`vault must be a TokenVault (with ${VAULT_METHODS.join(', ')})`);
  }

  const authPath = o.authPath ?? '/auth';
  const callbackPath = o.callbackPath ?? '/auth/callback';
  const redirectAfterAuth = o.redirectAfterAuth ?? '/';
  for (const [name, value] of [
    ['authPath', authPath],
    ['callbackPath', callbackPath],
    ['redirectAfterAuth', redirectAfterAuth],
  ] as const) {
    const problem = pathProblem(name, value);
    if (problem) problems.push(problem);
  }
  if (authPath === callbackPath) problems.push('authPath and callbackPath must differ');
  if (redirectAfterAuth === authPath || redirectAfterAuth === callbackPath) {
    problems.push('redirectAfterAuth must not be the auth or callback path (it would loop)');
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
  if (problems.length > 0) throw new ConfigError(problems);

  const now = o.now ?? Date.now;
  const cookieSecure = o.cookieSecure ?? true;
  const resolved: ResolvedShoptokenOptions = Object.freeze({
    apiKey: o.apiKey as string,
    scopes: Object.freeze(scopes),
    appUrl,
    authPath,
    callbackPath,
    redirectUri: `${appUrl}${callbackPath}`,
    redirectAfterAuth,
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
    stateStore: o.stateStore ?? createMemoryStateStore({ now }),
    stateSigner: createSigner(secrets, 'oauth-state-cookie'),
    sessionSigner: createSigner(secrets, 'session-cookie'),
    cookies: cookieNames(cookieSecure),
    afterAuth: o.afterAuth,
    afterLogin: o.afterLogin,
  };
}
