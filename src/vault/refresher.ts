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
import type { TokenRow } from '../storage/types.ts';
import type { GrantContext } from './context.ts';
import type { NeedsReauthReason } from './events.ts';
import type { RefreshPolicy } from './refresh-options.ts';
import { describeReason, markNeedsReauth, needsReauthError, needsReauthReason, noteFailure } from './row-marks.ts';
import { appCredentialsError, callTokenEndpoint } from './token-call.ts';

export { needsReauthError };

/** A stored offline row and its access token in clear. */
export interface FreshToken {
  row: TokenRow;
  accessToken: string;
}

/** What one refresh attempt came to. */
type Outcome =
  | { kind: 'stored'; fresh: FreshToken }
  | { kind: 'changed' }
  | { kind: 'refused'; reason: NeedsReauthReason }
  /** `transient`, `ambiguous` or `malformed` (never `shop_terminal` or `app_credentials`). */
  | { kind: 'failed'; failure: TokenFailure; error: ShoptokenError };

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
  ctx: Pick<GrantContext, 'records' | 'now'>,
  row: TokenRow,
  pair: ExpiringOfflineTokenResponse,
  sentAt: number,
  previousRefreshToken: string | null,
): TokenRow {
  return {
    ...row,
    accessToken: ctx.records.seal(row, 'access_token', pair.accessToken),
    refreshToken: ctx.records.seal(row, 'refresh_token', pair.refreshToken),
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
  readonly #ctx: GrantContext;

  constructor(context: GrantContext) {
    this.#ctx = context;
  }

  /**
   * The shop's offline token, refreshed if it expires within `marginMs`. Concurrent calls for one
   * shop share one refresh in this process, and one lease across processes: while another process
   * refreshes, this one waits for its pair instead of calling Shopify.
   */
  refresh(shop: string, marginMs: number): Promise<FreshToken> {
    const { coordinator, records, now } = this.#ctx;
    const settled = async (): Promise<FreshToken | null> => {
      const row = await records.offline(shop);
      return row && isFresh(row, now(), marginMs) ? { row, accessToken: this.#openAccess(row) } : null;
    };
    return coordinator.run('refresh', shop, () => this.#run(shop, marginMs), settled);
  }

  async #run(shop: string, marginMs: number): Promise<FreshToken> {
    const { records, now, policy, holds } = this.#ctx;
    let failures = 0;
    let lastError: ShoptokenError | undefined;
    let row: TokenRow | null = null;
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      if (lastError) await policy.sleep(this.#backoff(failures - 1));
      // Re-read every time: another process (or the winner of a compare-and-set) may have stored a newer pair.
      row = await records.offline(shop);
      if (!row) throw needsReauthError(shop, 'no offline token is stored');
      if (isFresh(row, now(), marginMs)) return { row, accessToken: this.#openAccess(row) };
      if (row.status === 'needs_reauth') throw needsReauthError(shop, row.lastRefreshError ?? 'refresh refused');
      if (row.refreshToken === null) throw needsReauthError(shop, 'the offline token expired and has no refresh token');
      if (!records.ring.canOpen(row.refreshToken)) {
        // Sealed by a key no longer configured: nobody can use it, so the shop must authorize again.
        if (await markNeedsReauth(this.#ctx, row, 'key_retired'))
          throw needsReauthError(shop, describeReason('key_retired'));
        continue;
      }
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
    const { records } = this.#ctx;
    const current = row.refreshToken as string;
    // A previous token whose key was retired is as good as absent: never tried, never a loop.
    const previous = row.previousRefreshToken !== null && records.ring.canOpen(row.previousRefreshToken);
    let refused: NeedsReauthReason | null = null;
    for (const used of previous ? [current, row.previousRefreshToken as string] : [current]) {
      const call = await callTokenEndpoint(this.#ctx, row.shop, 'refresh_token', (endpoint) =>
        refreshAccessToken(endpoint, records.open(row, 'refresh_token', used)),
      );
      if (call.ok) {
        const stored = await records.swap(row, rowWithPair(this.#ctx, row, call.value, call.sentAt, used));
        return stored
          ? { kind: 'stored', fresh: { row: stored, accessToken: call.value.accessToken } }
          : { kind: 'changed' };
      }
      const { failure } = call;
      if (failure.kind === 'app_credentials') throw appCredentialsError(call);
      if (failure.kind !== 'shop_terminal') return { kind: 'failed', failure, error: call.error };
      // Another refresher may have won with this very token: re-read before believing the refusal.
      const latest = await records.offline(row.shop);
      if (latest?.refreshToken !== current) return { kind: 'changed' };
      refused ??= needsReauthReason(failure);
    }
    return { kind: 'refused', reason: refused as NeedsReauthReason };
  }

  #backoff(n: number): number {
    return backoffDelay(this.#ctx.policy, n);
  }

  #openAccess(row: TokenRow): string {
    return this.#ctx.records.open(row, 'access_token', row.accessToken);
  }
}
