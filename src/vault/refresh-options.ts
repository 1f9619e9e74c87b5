/**
 * What the vault needs to refresh expiring offline tokens: how to reach Shopify (the app's
 * credentials) and the retry policy. Checked when the vault is opened.
 */

import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';

/** The app's credentials and where Shopify is. */
export interface ShopifyClientOptions {
  /** The app's client id (API key). */
  clientId: string;
  /** The app's client secret. Give this or `secrets`. */
  clientSecret?: string;
  /** Client secrets, current first (as for the auth flow); refreshes send the current one. */
  secrets?: readonly string[];
  /** Base-URL template of a shop's admin host; `https://{shop}` by default (the emulator prints its own). */
  baseUrl?: string;
  /** The fetch used for token requests; the global `fetch` by default. */
  fetch?: typeof fetch;
}

/** How refreshes are timed and retried. */
export interface RefreshOptions {
  /** A token is refreshed when it expires within this many ms; 300000 (5 minutes) by default. */
  marginMs?: number;
  /** Refresh requests per `token()` call on transient failures (5xx, 429, resets, timeouts); 4 by default. */
  attempts?: number;
  /** First backoff step in ms; 200 by default. Each step doubles, with full jitter. */
  baseDelayMs?: number;
  /** Longest backoff in ms; 5000 by default. */
  maxDelayMs?: number;
  /** Time limit of one refresh request in ms; 10000 by default. */
  timeoutMs?: number;
  /**
   * While Shopify refuses the app's credentials (`invalid_client`), one token request is let through
   * this often, on the vault's clock, to find out whether they work again; 60000 by default.
   */
  credentialsProbeMs?: number;
  /** Waits `ms`; a timer by default (tests inject one that returns at once). */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter; `Math.random` by default. */
  random?: () => number;
}

/** The checked Shopify options. */
export interface ShopifyClient {
  clientId: string;
  clientSecret: string;
  baseUrl: string;
  fetch: typeof fetch | undefined;
}

/** The checked retry policy, defaults filled in. */
export type RefreshPolicy = Required<RefreshOptions>;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Checks `shopify`; pushes every problem (never a secret) and returns the client when it is usable. */
export function checkShopifyOptions(value: ShopifyClientOptions | undefined, problems: string[]): ShopifyClient | null {
  if (value === undefined) return null;
  const start = problems.length;
  if (typeof value !== 'object' || value === null) {
    problems.push('shopify must be an object');
    return null;
  }
  if (!isNonEmptyString(value.clientId)) problems.push('shopify.clientId must be a non-empty string');
  const { clientSecret, secrets } = value;
  if ((clientSecret === undefined) === (secrets === undefined)) {
    problems.push('shopify needs exactly one of clientSecret and secrets');
  } else if (clientSecret !== undefined && !isNonEmptyString(clientSecret)) {
    problems.push('shopify.clientSecret must be a non-empty string');
  } else if (
    secrets !== undefined &&
    !(Array.isArray(secrets) && secrets.length > 0 && secrets.every(isNonEmptyString))
  ) {
    problems.push('shopify.secrets must be a non-empty list of non-empty strings (current first)');
  }
  const baseUrl = value.baseUrl ?? DEFAULT_SHOPIFY_BASE_URL;
  const baseUrlProblem = typeof baseUrl === 'string' ? checkBaseUrlTemplate(baseUrl) : 'must be a string';
  if (baseUrlProblem) problems.push(`shopify.baseUrl ${baseUrlProblem}`);
  if (value.fetch !== undefined && typeof value.fetch !== 'function') problems.push('shopify.fetch must be a function');
  if (problems.length > start) return null;
  return {
    clientId: value.clientId,
    clientSecret: (clientSecret ?? secrets?.[0]) as string,
    baseUrl,
    fetch: value.fetch,
  };
}

/** True for a finite number ≥ 0 (a margin or a delay). */
export function isDuration(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Checks `refresh` and fills in the defaults; pushes every problem. */
export function checkRefreshOptions(value: RefreshOptions | undefined, problems: string[]): RefreshPolicy {
  const options = value ?? {};
  const policy: RefreshPolicy = {
    marginMs: options.marginMs ?? 300_000,
    attempts: options.attempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 5000,
    timeoutMs: options.timeoutMs ?? 10_000,
    credentialsProbeMs: options.credentialsProbeMs ?? 60_000,
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
  };
  for (const name of ['marginMs', 'baseDelayMs', 'maxDelayMs'] as const) {
    if (!isDuration(policy[name])) problems.push(`refresh.${name} must be a number of milliseconds ≥ 0`);
  }
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1 || policy.attempts > 10) {
    problems.push('refresh.attempts must be an integer from 1 to 10');
  }
  for (const name of ['timeoutMs', 'credentialsProbeMs'] as const) {
    if (!isDuration(policy[name]) || policy[name] === 0)
      problems.push(`refresh.${name} must be a number of milliseconds > 0`);
  }
  if (typeof policy.sleep !== 'function') problems.push('refresh.sleep must be a function');
  if (typeof policy.random !== 'function') problems.push('refresh.random must be a function');
  return policy;
}
