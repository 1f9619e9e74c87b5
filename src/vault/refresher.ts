/**
 * Refreshing expiring offline tokens (shopify-protocol §3.2): one refresh per shop at a time in this
 * process, the row re-read before every attempt, the new pair stored with a compare-and-set on the
 * refresh token used, lost answers recovered by retrying the same stored refresh token, and Shopify's
 * refusals told apart from transient faults.
 */

import { ConfigError, OAuthResponseError, ShoptokenError } from '../errors.ts';
import { type ExpiringOfflineTokenResponse, refreshAccessToken } from '../protocol/refresh.ts';
import { formatScopes } from '../protocol/scopes.ts';
import type { TokenEndpoint } from '../protocol/tokens.ts';
import type { TokenRow, TokenStorage } from '../storage/types.ts';
import type { NeedsReauthReason, VaultEmitter } from './events.ts';
import { type KeyRing, type TokenField, tokenAad } from './keyring.ts';
import type { RefreshPolicy, ShopifyClient } from './refresh-options.ts';

/** A stored offline row and its access token in clear. */
export interface FreshToken {
  row: TokenRow;
  accessToken: string;
}

/** What the refresher works with; the vault owns all of it. */
export interface RefresherContext {
  storage: TokenStorage;
  ring: KeyRing;
  now: () => number;
  shopify: ShopifyClient | null;
  policy: RefreshPolicy;
  events: VaultEmitter;
}

/** What one refresh attempt came to. */
type Outcome =
  | { kind: 'stored'; fresh: FreshToken }
  | { kind: 'changed' }
  | { kind: 'refused'; reason: NeedsReauthReason }
  | { kind: 'transient'; error: ShoptokenError };

const offlineAad = (shop: string, field: TokenField): string => tokenAad({ shop, kind: 'offline', userId: '', field });

/** True when the row's access token is valid for at least `marginMs` (or never expires). */
export function isFresh(row: TokenRow, now: number, marginMs: number): boolean {
  return row.expiresAt === null || row.expiresAt - now >= marginMs;
}

/** The error for a shop whose offline token cannot be used or refreshed any more. */
export function needsReauthError(shop: string, why: string): ShoptokenError {
  return new ShoptokenError('ERR_NEEDS_REAUTH', `${shop} must authorize the app again: ${why}`);
}

/** Full jitter: a random wait up to `base · 2^n`, capped. */
export function backoffDelay(policy: RefreshPolicy, n: number): number {
  const { baseDelayMs, maxDelayMs, random } = policy;
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** n));
}

/** The shop's token endpoint with the app's credentials and the policy's timeout; ConfigError without credentials. */
export function tokenEndpoint(context: Pick<RefresherContext, 'shopify' | 'policy'>, shop: string): TokenEndpoint {
  const { shopify, policy } = context;
  if (!shopify) {
    throw new ConfigError([
      'shopify: the vault needs the app credentials to reach Shopify (openVault({ shopify: { clientId, clientSecret } }))',
    ]);
  }
  return { ...shopify, fetch: shopify.fetch ?? fetch, shop, signal: AbortSignal.timeout(policy.timeoutMs) };
}

/** Shopify's final refusals of a refresh token (or of the app's credentials). */
function refusal(error: unknown): NeedsReauthReason | null {
  if (!(error instanceof OAuthResponseError) || error.status >= 500) return null;
  return error.error === 'invalid_grant' || error.error === 'invalid_client' ? error.error : null;
}

/** A short, value-free description of a failed grant, stored in `lastRefreshError`. */
export function describeFailure(error: ShoptokenError): string {
  if (error instanceof OAuthResponseError) return `${error.error} (HTTP ${error.status})`;
  return 'status' in error ? `${error.code} (HTTP ${String(error.status)})` : error.code;
}

/**
 * `row` holding a newly issued expiring pair (sealed), its lifetimes counted from `sentAt` (when the
 * request left, so the stored expiry is never late), the refresh state reset, and
 * `previousRefreshToken` (sealed) kept for lost-answer recovery.
 */
export function rowWithPair(
  ctx: Pick<RefresherContext, 'ring' | 'now'>,
  row: TokenRow,
  pair: ExpiringOfflineTokenResponse,
  sentAt: number,
  previousRefreshToken: string | null,
): TokenRow {
  const seal = (value: string, field: TokenField) => ctx.ring.seal(value, offlineAad(row.shop, field));
  return {
    ...row,
    accessToken: seal(pair.accessToken, 'access_token'),
    refreshToken: seal(pair.refreshToken, 'refresh_token'),
    previousRefreshToken,
    scopes: formatScopes(pair.scopes),
    expiresAt: sentAt + pair.expiresIn * 1000,
    refreshTokenExpiresAt: sentAt + pair.refreshTokenExpiresIn * 1000,
    updatedAt: ctx.now(),
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
  };
}

/** Refreshes offline tokens for one vault. */
export class Refresher {
  readonly #ctx: RefresherContext;
  readonly #inFlight = new Map<string, Promise<FreshToken>>();

  constructor(context: RefresherContext) {
    this.#ctx = context;
  }

  /**
   * The shop's offline token, refreshed if it expires within `marginMs`. Concurrent calls for one
   * shop share one refresh.
   */
  refresh(shop: string, marginMs: number): Promise<FreshToken> {
    const pending = this.#inFlight.get(shop);
    if (pending) return pending;
    const run = this.#run(shop, marginMs).finally(() => this.#inFlight.delete(shop));
    this.#inFlight.set(shop, run);
    return run;
  }

  async #run(shop: string, marginMs: number): Promise<FreshToken> {
    const { storage, now, policy } = this.#ctx;
    let failures = 0;
    let lastError: ShoptokenError | undefined;
    let row: TokenRow | null = null;
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      if (lastError) await policy.sleep(this.#backoff(failures - 1));
      // Re-read every time: another process (or the winner of a compare-and-set) may have stored a newer pair.
      row = await storage.get(shop, 'offline', '');
      if (!row) throw needsReauthError(shop, 'no offline token is stored');
      if (isFresh(row, now(), marginMs)) return { row, accessToken: this.#openAccess(row) };
      if (row.status === 'needs_reauth') throw needsReauthError(shop, row.lastRefreshError ?? 'refresh refused');
      if (row.refreshToken === null) throw needsReauthError(shop, 'the offline token expired and has no refresh token');
      if (row.refreshTokenExpiresAt !== null && row.refreshTokenExpiresAt <= now()) {
        if (await this.#markNeedsReauth(row, 'refresh_token_expired')) {
          throw needsReauthError(shop, 'the refresh token expired');
        }
        continue;
      }
      const outcome = await this.#attempt(row);
      if (outcome.kind === 'stored') return outcome.fresh;
      if (outcome.kind === 'refused') {
        if (await this.#markNeedsReauth(row, outcome.reason)) throw needsReauthError(shop, outcome.reason);
      } else if (outcome.kind === 'transient') {
        failures++;
        lastError = outcome.error;
      }
      // 'changed', or a mark that lost to a newer row: the next pass reads the winner's row.
    }
    if (!lastError) {
      throw new ShoptokenError('ERR_STORAGE', `the offline token of ${shop} kept changing during the refresh`, {
        retryable: true,
      });
    }
    if (row) await this.#noteFailure(row, lastError);
    throw lastError;
  }

  /**
   * One refresh with the stored refresh token and, if Shopify refuses it, with the previous one.
   *
   * The stored token goes first: if the answer to an earlier refresh was lost (commit then drop, or
   * a crash before the write), Shopify answers this same token again with the pair it issued. The
   * previous token comes second: Shopify keeps it retryable until the current one is used, which
   * recovers a row whose current token Shopify never accepted (for instance when a retry was
   * answered with another pair than the one stored, a case the protocol notes leave open).
   */
  async #attempt(row: TokenRow): Promise<Outcome> {
    const { storage } = this.#ctx;
    const current = row.refreshToken as string;
    let refused: NeedsReauthReason | null = null;
    for (const used of row.previousRefreshToken === null ? [current] : [current, row.previousRefreshToken]) {
      const sentAt = this.#ctx.now();
      let pair: ExpiringOfflineTokenResponse;
      try {
        pair = await refreshAccessToken(this.#endpoint(row.shop), this.#openRefresh(row, used));
      } catch (error) {
        const reason = refusal(error);
        if (reason === null) {
          if (error instanceof ShoptokenError && error.retryable) return { kind: 'transient', error };
          throw error;
        }
        // Another refresher may have won with this very token: re-read before believing the refusal.
        const latest = await storage.get(row.shop, 'offline', '');
        if (latest?.refreshToken !== current) return { kind: 'changed' };
        refused ??= reason;
        continue;
      }
      const next = this.#nextRow(row, used, pair, sentAt);
      const stored = await storage.swapOffline(row.shop, { refreshToken: current }, next);
      return stored ? { kind: 'stored', fresh: { row: next, accessToken: pair.accessToken } } : { kind: 'changed' };
    }
    return { kind: 'refused', reason: refused as NeedsReauthReason };
  }

  /** The row after a successful refresh: the new pair, and the token just used kept as previous. */
  #nextRow(row: TokenRow, used: string, pair: ExpiringOfflineTokenResponse, sentAt: number): TokenRow {
    return rowWithPair(this.#ctx, row, pair, sentAt, used);
  }

  /** Marks the shop `needs_reauth` unless the row changed; emits the event when this call marked it. */
  async #markNeedsReauth(row: TokenRow, reason: NeedsReauthReason): Promise<boolean> {
    const marked = await this.#ctx.storage.swapOffline(
      row.shop,
      { refreshToken: row.refreshToken as string },
      {
        ...row,
        status: 'needs_reauth',
        refreshFailures: row.refreshFailures + 1,
        lastRefreshError: reason,
        updatedAt: this.#ctx.now(),
      },
    );
    if (marked) this.#ctx.events.emit('needs_reauth', { shop: row.shop, reason });
    return marked;
  }

  /** Counts a transient failure on the row (if it did not change); the shop stays active. */
  async #noteFailure(row: TokenRow, error: ShoptokenError): Promise<void> {
    await this.#ctx.storage.swapOffline(
      row.shop,
      { refreshToken: row.refreshToken as string },
      {
        ...row,
        refreshFailures: row.refreshFailures + 1,
        lastRefreshError: describeFailure(error),
        updatedAt: this.#ctx.now(),
      },
    );
  }

  #backoff(n: number): number {
    return backoffDelay(this.#ctx.policy, n);
  }

  #endpoint(shop: string): TokenEndpoint {
    return tokenEndpoint(this.#ctx, shop);
  }

  #openAccess(row: TokenRow): string {
    return this.#ctx.ring.open(row.accessToken, offlineAad(row.shop, 'access_token'));
  }

  #openRefresh(row: TokenRow, sealed: string): string {
    return this.#ctx.ring.open(sealed, offlineAad(row.shop, 'refresh_token'));
  }
}
