/**
 * The token-aware Admin API client: every request carries the vault's current token; a 401 is
 * answered by one refresh and one retry (offline) or by asking the user to sign in again (online);
 * `THROTTLED` is waited out with the restore rate. Requests go through `@shopify/admin-api-client`
 * ({@link adminClient}); its `fetch` is used rather than `request` because `request` drops the body
 * of a non-200 answer, which a throttled 429 may carry (§7.2).
 */

import { ConfigError, ShoptokenError, TransportError } from '../errors.ts';
import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL, isShopDomain } from '../protocol/shop.ts';
import type { NeedsReauthReason } from '../vault/events.ts';
import type { OfflineToken, OnlineToken } from '../vault/types.ts';
import { adminClient, DEFAULT_API_VERSION } from './client.ts';
import { type AdminResult, processAdminResponse, throttleWaitMs } from './response.ts';

/** What the Admin client needs from the vault ({@link Vault} has all of it). */
export interface AdminVault {
  token(shop: string, options?: { marginMs?: number }): Promise<OfflineToken>;
  online(shop: string, userId: string): Promise<OnlineToken | null>;
  markNeedsReauth(shop: string, reason: NeedsReauthReason, accessToken: string): Promise<boolean>;
}

/** Options of {@link createAdmin}, checked when it is called. */
export interface AdminOptions {
  /** Base-URL template of a shop's admin host; `https://{shop}` by default. */
  shopifyBaseUrl?: string;
  /** `YYYY-MM` or `unstable`; {@link DEFAULT_API_VERSION} by default. */
  apiVersion?: string;
  /** The fetch used for Admin API requests; the global `fetch` by default. */
  fetch?: typeof fetch;
  /** Waits `ms` (throttling); a timer by default. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock in epoch ms; give the vault's clock. `Date.now` by default. */
  now?: () => number;
  /** A number in [0, 1) for the throttle jitter; `Math.random` by default. */
  random?: () => number;
  /** Longest total wait for `THROTTLED` per request, ms; 30000 by default. Beyond it the throttled result is returned. */
  maxThrottleWaitMs?: number;
}

/** Options of one request. */
export interface AdminRequestOptions {
  variables?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** An Admin GraphQL client for one shop (offline token) or one user of a shop (online token). */
export interface TokenAwareAdminClient {
  readonly shop: string;
  /** `null` for the shop's offline token. */
  readonly userId: string | null;
  /**
   * Runs `query`. Throws ShoptokenError `ERR_NEEDS_REAUTH` when the shop's offline token is refused
   * even after a refresh (the shop is then marked), {@link UserReauthError} when a user's online
   * token is missing, expired or refused, and a retryable error for transport failures and 5xx.
   * When the refresh after a 401 cannot happen for a reason that is not the shop's — Shopify refuses
   * the app's credentials (`ERR_APP_CREDENTIALS`), the shop is held after an undocumented answer
   * (`ERR_REFRESH_DEFERRED`), Shopify is unreachable — that error is thrown and nothing is marked.
   */
  request<T = Record<string, unknown>>(query: string, options?: AdminRequestOptions): Promise<AdminResult<T>>;
}

/** Returns the client of `shop`, or of one of its users with `{ userId }`. */
export type AdminFactory = (shop: string, options?: { userId?: string }) => TokenAwareAdminClient;

/** A user's online token is missing, expired or refused: that user must sign in again. The shop is not marked. */
export class UserReauthError extends ShoptokenError {
  readonly shop: string;
  readonly userId: string;

  constructor(shop: string, userId: string, why: string) {
    super('ERR_NEEDS_REAUTH', `user ${userId} of ${shop} must sign in to the app again: ${why}`);
    this.name = 'UserReauthError';
    this.shop = shop;
    this.userId = userId;
  }
}

/** Extra time added to a refused token's remaining lifetime to force its refresh despite small clock differences. */
const CLOCK_SLACK_MS = 1000;
/** The largest random extra wait added to a throttle wait, ms. */
const JITTER_MS = 100;
const USER_ID = /^\d{1,20}$/;
const API_VERSION = /^(\d{4}-(0[1-9]|1[0-2])|unstable)$/;

const isFunction = (value: unknown) => typeof value === 'function';
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function checkOptions(vault: AdminVault, options: AdminOptions): Required<AdminOptions> {
  const problems: string[] = [];
  const methods = ['token', 'online', 'markNeedsReauth'] as const;
  if (!vault || !methods.every((m) => isFunction(vault[m]))) problems.push(`vault must have ${methods.join(', ')}`);
  const checked = {
    shopifyBaseUrl: options.shopifyBaseUrl ?? DEFAULT_SHOPIFY_BASE_URL,
    apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
    fetch: options.fetch ?? fetch,
    sleep: options.sleep ?? defaultSleep,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    maxThrottleWaitMs: options.maxThrottleWaitMs ?? 30_000,
  };
  const template = checked.shopifyBaseUrl;
  const templateProblem = typeof template === 'string' ? checkBaseUrlTemplate(template) : 'must be a string';
  if (templateProblem) problems.push(`shopifyBaseUrl ${templateProblem}`);
  if (typeof checked.apiVersion !== 'string' || !API_VERSION.test(checked.apiVersion)) {
    problems.push('apiVersion must be YYYY-MM or unstable');
  }
  for (const name of ['fetch', 'sleep', 'now', 'random'] as const) {
    if (!isFunction(checked[name])) problems.push(`${name} must be a function`);
  }
  const max = checked.maxThrottleWaitMs;
  if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) {
    problems.push('maxThrottleWaitMs must be a number of milliseconds ≥ 0');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return checked;
}

/**
 * Builds the Admin client factory over a vault. Options are checked here (ConfigError lists every problem).
 *
 * @example
 * const admin = createAdmin(vault, { shopifyBaseUrl: 'https://{shop}' });
 * const { data, extensions } = await admin('cool-shop.myshopify.com').request('{ shop { name } }');
 * const mine = await admin(shop, { userId: '42' }).request('{ orders(first: 5) { nodes { id } } }');
 */
export function createAdmin(vault: AdminVault, options: AdminOptions = {}): AdminFactory {
  const config = checkOptions(vault, options);

  async function send<T>(shop: string, accessToken: string, query: string, request: AdminRequestOptions) {
    const client = adminClient({
      shop,
      accessToken,
      shopifyBaseUrl: config.shopifyBaseUrl,
      apiVersion: config.apiVersion,
      fetch: config.fetch,
    });
    let response: Response;
    try {
      response = await client.fetch(query, { variables: request.variables, signal: request.signal });
    } catch (error) {
      throw new TransportError(`the Admin API request for ${shop} got no answer`, error);
    }
    return processAdminResponse<T>(response);
  }

  /**
   * The token to retry with after Shopify refused `refused`. For an expiring token, a margin just
   * past its remaining lifetime makes the vault refresh it (one refresh per shop at a time) unless
   * another caller already stored a newer token, which then comes back as it is: no refresh storm.
   * A non-expiring token is read again (a new install may have replaced it).
   */
  function renewed(shop: string, refused: OfflineToken): Promise<OfflineToken> {
    if (refused.expiresAt === null) return vault.token(shop);
    const marginMs = Math.max(0, refused.expiresAt.getTime() - config.now()) + CLOCK_SLACK_MS;
    return vault.token(shop, { marginMs });
  }

  async function offline<T>(shop: string, query: string, request: AdminRequestOptions): Promise<AdminResult<T>> {
    const first = await vault.token(shop);
    const answer = await send<T>(shop, first.accessToken, query, request);
    if (answer !== 'unauthorized') return answer;
    // A refresh that fails for a reason that is not the shop's (the app's credentials, a hold, a
    // fault) throws here, before anything is marked: only a refused refreshed token marks the shop.
    const second = await renewed(shop, first);
    const retried = await send<T>(shop, second.accessToken, query, request);
    if (retried !== 'unauthorized') return retried;
    await vault.markNeedsReauth(shop, 'admin_unauthorized', second.accessToken);
    throw new ShoptokenError(
      'ERR_NEEDS_REAUTH',
      `${shop} must authorize the app again: the Admin API refused its offline token after a refresh`,
    );
  }

  async function online<T>(shop: string, userId: string, query: string, request: AdminRequestOptions) {
    const token = await vault.online(shop, userId);
    if (!token) throw new UserReauthError(shop, userId, 'no unexpired online token is stored');
    const answer = await send<T>(shop, token.accessToken, query, request);
    // Online tokens have no refresh token: only the user can get a new one (token exchange or OAuth).
    if (answer === 'unauthorized') throw new UserReauthError(shop, userId, 'the Admin API refused the online token');
    return answer;
  }

  return (shop, clientOptions) => {
    const userId = clientOptions?.userId ?? null;
    const problems = [
      ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain ({name}.myshopify.com, lower case)']),
      ...(userId === null || (typeof userId === 'string' && USER_ID.test(userId)) ? [] : ['userId must be digits']),
    ];
    if (problems.length > 0) throw new TypeError(`invalid admin client: ${problems.join('; ')}`);
    return {
      shop,
      userId,
      async request<T = Record<string, unknown>>(query: string, request: AdminRequestOptions = {}) {
        let waitedMs = 0;
        for (;;) {
          const result =
            userId === null ? await offline<T>(shop, query, request) : await online<T>(shop, userId, query, request);
          const waitMs = throttleWaitMs(result);
          if (waitMs === null) return result;
          const delay = Math.ceil(waitMs + config.random() * JITTER_MS);
          if (waitedMs + delay > config.maxThrottleWaitMs) return result;
          await config.sleep(delay);
          waitedMs += delay;
        }
      },
    };
  };
}
