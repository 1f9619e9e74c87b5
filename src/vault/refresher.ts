/**
 * Refreshing expiring offline tokens (shopify-protocol §3.2): one refresh per shop at a time in this
 * process, the row re-read before every attempt, the new pair stored with a compare-and-set on the
 * refresh token used, lost answers recovered by retrying the same stored refresh token. Every failure
 * is read by `classifyTokenFailure` (§3.6): the shop's final refusal marks it `needs_reauth` (after a
 * re-read, and after the previous refresh token was tried); the app's credentials refused marks
 * nothing (see `app-credentials.ts`); transient faults are retried with capped, jittered backoff;
 * an undocumented answer holds the shop for a long while (`shop-hold.ts`); a malformed success
 * stores nothing.
 */

import { RefreshDeferredError, ShoptokenError, UnexpectedResponseError } from '../errors.ts';
import { type ExpiringOfflineTokenResponse, refreshAccessToken } from '../protocol/refresh.ts';
import { formatScopes } from '../protocol/scopes.ts';
import type { TokenFailure } from '../protocol/token-failure.ts';
import type { TokenRow, TokenStorage } from '../storage/types.ts';
import type { AppCredentialsGate } from './app-credentials.ts';
import type { NeedsReauthReason, VaultEmitter } from './events.ts';
import { type KeyRing, type TokenField, tokenAad } from './keyring.ts';
import type { RefreshPolicy, ShopifyClient } from './refresh-options.ts';
import { describeReason, markNeedsReauth, needsReauthError, needsReauthReason, noteFailure } from './row-marks.ts';
import type { ShopHolds } from './shop-hold.ts';
import { appCredentialsError, callTokenEndpoint } from './token-call.ts';

export { needsReauthError };

/** A stored offline row and its access token in clear. */
export interface FreshToken {
  row: TokenRow;
  accessToken: string;
}

/** What the refresher (and the other token jobs) work with; the vault owns all of it. */
export interface RefresherContext {
  storage: TokenStorage;
  ring: KeyRing;
  now: () => number;
  shopify: ShopifyClient | null;
  policy: RefreshPolicy;
  events: VaultEmitter;
  /** Whether Shopify accepts the app's credentials; holds requests while it does not. */
  gate: AppCredentialsGate;
  /** Shops held after an undocumented answer. */
  holds: ShopHolds;
}

/** What one refresh attempt came to. */
type Outcome =
  | { kind: 'stored'; fresh: FreshToken }
  | { kind: 'changed' }
  | { kind: 'refused'; reason: NeedsReauthReason }
  /** `transient`, `ambiguous` or `malformed` (never `shop_terminal` or `app_credentials`). */
  | { kind: 'failed'; failure: TokenFailure; error: ShoptokenError };

const offlineAad = (shop: string, field: TokenField): string => tokenAad({ shop, kind: 'offline', userId: '', field });

/** True when the row's access token is valid for at least `marginMs` (or never expires). */
export function isFresh(row: TokenRow, now: number, marginMs: number): boolean {
  return row.expiresAt === null || row.expiresAt - now >= marginMs;
}

/** Full jitter: a random wait up to `base · 2^n`, capped. */
export function backoffDelay(policy: RefreshPolicy, n: number): number {
  const { baseDelayMs, maxDelayMs, random } = policy;
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** n));
}

/** The error for a 2xx that is not a usable pair: nothing was stored. */
export function malformedError(shop: string, error: ShoptokenError): UnexpectedResponseError {
  const status = 'status' in error && typeof error.status === 'number' ? error.status : 200;
  return new UnexpectedResponseError(
    status,
    `Shopify's answer to the token request of ${shop} is not a usable token (${error.message}); nothing was ` +
      'stored and the stored token is kept; the next attempt repeats the same request',
    { cause: error, retryable: true },
  );
}

/** The error while a shop is held after an undocumented answer. */
export function deferredError(shop: string, hold: { until: number; reason: string }, cause?: unknown) {
  return new RefreshDeferredError(shop, hold.reason, new Date(hold.until), { cause });
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
    const { storage, now, policy, holds } = this.#ctx;
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
        if (await markNeedsReauth(this.#ctx, row, 'refresh_token_expired')) {
          throw needsReauthError(shop, describeReason('refresh_token_expired'));
        }
        continue;
      }
      const hold = holds.active(shop);
      if (hold) throw deferredError(shop, hold);
      const outcome = await this.#attempt(row);
      if (outcome.kind === 'stored') {
        holds.clear(shop);
        return outcome.fresh;
      }
      if (outcome.kind === 'refused') {
        if (await markNeedsReauth(this.#ctx, row, outcome.reason)) {
          throw needsReauthError(shop, describeReason(outcome.reason));
        }
      } else if (outcome.kind === 'failed') {
        const { failure, error } = outcome;
        if (failure.kind === 'transient') {
          failures++;
          lastError = error;
          continue;
        }
        await noteFailure(this.#ctx, row, error);
        if (failure.kind === 'malformed') throw malformedError(shop, error);
        // Ambiguous: not a refusal Shopify documents, so never a mark; but not worth asking again soon.
        const until = holds.hold(shop, failure.reason);
        throw deferredError(shop, { until, reason: failure.reason }, error);
      }
      // 'changed', or a mark that lost to a newer row: the next pass reads the winner's row.
    }
    if (!lastError) {
      throw new ShoptokenError('ERR_STORAGE', `the offline token of ${shop} kept changing during the refresh`, {
        retryable: true,
      });
    }
    if (row) await noteFailure(this.#ctx, row, lastError);
    throw lastError;
  }

  /**
   * One refresh with the stored refresh token and, if Shopify refuses it for good, with the previous
   * one, before the shop is marked.
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
      const call = await callTokenEndpoint(this.#ctx, row.shop, 'refresh_token', (endpoint) =>
        refreshAccessToken(endpoint, this.#openRefresh(row, used)),
      );
      if (call.ok) {
        const next = rowWithPair(this.#ctx, row, call.value, call.sentAt, used);
        const stored = await storage.swapOffline(row.shop, { refreshToken: current }, next);
        return stored
          ? { kind: 'stored', fresh: { row: next, accessToken: call.value.accessToken } }
          : { kind: 'changed' };
      }
      const { failure } = call;
      if (failure.kind === 'app_credentials') throw appCredentialsError(call);
      if (failure.kind !== 'shop_terminal') return { kind: 'failed', failure, error: call.error };
      // Another refresher may have won with this very token: re-read before believing the refusal.
      const latest = await storage.get(row.shop, 'offline', '');
      if (latest?.refreshToken !== current) return { kind: 'changed' };
      refused ??= needsReauthReason(failure);
    }
    return { kind: 'refused', reason: refused as NeedsReauthReason };
  }

  #backoff(n: number): number {
    return backoffDelay(this.#ctx.policy, n);
  }

  #openAccess(row: TokenRow): string {
    return this.#ctx.ring.open(row.accessToken, offlineAad(row.shop, 'access_token'));
  }

  #openRefresh(row: TokenRow, sealed: string): string {
    return this.#ctx.ring.open(sealed, offlineAad(row.shop, 'refresh_token'));
  }
}
