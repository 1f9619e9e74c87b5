/**
 * Client-credentials tokens (shopify-protocol §4) for shops of the app's own organization: acquired
 * with `grant_type=client_credentials`, stored sealed on the shop's offline row (grant
 * `client_credentials`), and renewed by repeating the grant once 80 % of the lifetime has passed or
 * 5 minutes before expiry, whichever is earlier. One grant per shop at a time in this process; a
 * renewal is stored with a compare-and-set on the access token it replaces.
 */

import { AppCredentialsError, OAuthResponseError, ShoptokenError } from '../errors.ts';
import { type ClientCredentialsTokenResponse, requestClientCredentials } from '../protocol/client-credentials.ts';
import { formatScopes } from '../protocol/scopes.ts';
import type { TokenRow } from '../storage/types.ts';
import type { GrantContext } from './context.ts';
import { backoffDelay, deferredError, type FreshToken, isFresh, malformedError } from './refresher.ts';
import { renewalTime } from './renewal.ts';
import { describeReason, markNeedsReauth, needsReauthError, needsReauthReason, noteFailure } from './row-marks.ts';
import { appCredentialsError, callTokenEndpoint, type TokenCall } from './token-call.ts';

/** True when the row's client-credentials token must be renewed before use. */
export function credentialsDue(row: TokenRow, now: number, marginMs: number): boolean {
  if (row.expiresAt === null) return true;
  return now >= renewalTime(row.issuedAt ?? row.updatedAt, row.expiresAt, marginMs);
}

/** Why an acquisition failed, as a clear error; nothing was stored. */
function acquisitionError(shop: string, call: Extract<TokenCall<unknown>, { ok: false }>): ShoptokenError {
  const { failure, error } = call;
  if (failure.kind === 'app_credentials') return appCredentialsError(call);
  if (failure.kind === 'malformed') return malformedError(shop, error);
  if (!(error instanceof OAuthResponseError)) return error;
  return new ShoptokenError(
    'ERR_OAUTH_RESPONSE',
    `Shopify refused client credentials for ${shop} (${error.error}, HTTP ${error.status}): they are only for ` +
      'stores of the app’s own organization where the app is installed; check the shop and the app’s credentials',
    { cause: error },
  );
}

/** Acquires and renews client-credentials tokens for one vault. */
export class ClientCredentials {
  readonly #ctx: GrantContext;

  constructor(context: GrantContext) {
    this.#ctx = context;
  }

  /**
   * Requests a token now and stores it as the shop's offline token (replacing any other). One grant
   * per shop at a time, in this process and across processes sharing the store.
   */
  acquire(shop: string): Promise<FreshToken> {
    return this.#ctx.coordinator.run(
      'credentials',
      shop,
      () => this.#run(shop, null),
      async () => null,
    );
  }

  /** The shop's client-credentials token, renewed first when it is due for `marginMs` (one renewal at a time). */
  renew(shop: string, marginMs: number): Promise<FreshToken> {
    const settled = async (): Promise<FreshToken | null> => {
      const row = await this.#ctx.records.offline(shop);
      const current = row?.grant === 'client_credentials' && !credentialsDue(row, this.#ctx.now(), marginMs);
      return current && row ? { row, accessToken: this.#open(row) } : null;
    };
    return this.#ctx.coordinator.run('credentials', shop, () => this.#run(shop, marginMs), settled);
  }

  /**
   * `marginMs === null`: acquire unconditionally; else renew only when due (re-read first). A renewal
   * that fails for any reason but the shop's own refusal serves the stored token while it stays valid
   * for `marginMs`, and throws only once it does not.
   */
  async #run(shop: string, marginMs: number | null): Promise<FreshToken> {
    const { records, now, policy, holds } = this.#ctx;
    let lastError: ShoptokenError | undefined;
    let renewing: TokenRow | null = null;
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      if (lastError) await policy.sleep(backoffDelay(policy, attempt - 1));
      const row = await records.offline(shop);
      if (marginMs !== null) {
        if (row?.grant !== 'client_credentials')
          throw needsReauthError(shop, 'it has no client-credentials token any more');
        if (!credentialsDue(row, now(), marginMs)) return { row, accessToken: this.#open(row) };
        if (row.status === 'needs_reauth') throw needsReauthError(shop, row.lastRefreshError ?? 'renewal refused');
        renewing = row;
        const hold = holds.active(shop);
        if (hold) return this.#stillValid(row, marginMs, deferredError(shop, hold));
      }
      let call: TokenCall<ClientCredentialsTokenResponse>;
      try {
        call = await callTokenEndpoint(this.#ctx, shop, 'client_credentials', requestClientCredentials);
      } catch (error) {
        // Held by the app-credentials gate: no request was sent.
        if (error instanceof AppCredentialsError && renewing && marginMs !== null) {
          return this.#stillValid(renewing, marginMs, error);
        }
        throw error;
      }
      if (call.ok) {
        const next = this.#row(shop, row, call.value, call.sentAt);
        holds.clear(shop);
        if (marginMs === null || row === null) {
          return { row: await records.put(next), accessToken: call.value.accessToken };
        }
        const stored = await records.swap(row, next);
        if (stored) return { row: stored, accessToken: call.value.accessToken };
        continue; // Another renewer stored a newer token: the next pass reads it (and returns it when fresh).
      }
      const { failure, error } = call;
      if (failure.kind === 'transient') {
        lastError = error;
        continue;
      }
      if (!renewing || marginMs === null) throw acquisitionError(shop, call);
      if (failure.kind === 'app_credentials') return this.#stillValid(renewing, marginMs, appCredentialsError(call));
      if (failure.kind === 'shop_terminal') {
        // Another renewer may have stored a newer token meanwhile: re-read before believing the refusal.
        const latest = await records.offline(shop);
        if (latest?.accessToken !== renewing.accessToken) continue;
        const reason = needsReauthReason(failure);
        if (await markNeedsReauth(this.#ctx, renewing, reason)) throw needsReauthError(shop, describeReason(reason));
        continue;
      }
      await noteFailure(this.#ctx, renewing, error);
      if (failure.kind === 'malformed') return this.#stillValid(renewing, marginMs, malformedError(shop, error));
      const until = holds.hold(shop, failure.reason);
      return this.#stillValid(renewing, marginMs, deferredError(shop, { until, reason: failure.reason }, error));
    }
    const error =
      lastError ??
      new ShoptokenError('ERR_STORAGE', `the token of ${shop} kept changing during the renewal`, { retryable: true });
    if (lastError && renewing && marginMs !== null) {
      await noteFailure(this.#ctx, renewing, lastError);
      return this.#stillValid(renewing, marginMs, lastError);
    }
    throw error;
  }

  /** The stored token while it stays valid for `marginMs`; else `error` is thrown. */
  #stillValid(row: TokenRow, marginMs: number, error: ShoptokenError): FreshToken {
    if (isFresh(row, this.#ctx.now(), marginMs)) return { row, accessToken: this.#open(row) };
    throw error;
  }

  /** The row holding a new client-credentials token; an existing row keeps its `createdAt` and install. */
  #row(shop: string, existing: TokenRow | null, token: ClientCredentialsTokenResponse, sentAt: number): TokenRow {
    const at = this.#ctx.now();
    const key = this.#ctx.records.key(shop);
    return {
      ...key,
      accessToken: this.#ctx.records.seal(key, 'access_token', token.accessToken),
      refreshToken: null,
      previousRefreshToken: null,
      user: null,
      scopes: formatScopes(token.scopes),
      associatedUserScopes: null,
      // The lifetime counts from when the request left, so the stored expiry is never late.
      expiresAt: sentAt + token.expiresIn * 1000,
      refreshTokenExpiresAt: null,
      // Computed again by the records on every write (renewal.ts); set here so the row is complete.
      renewAt: null,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      installedAt: existing?.installedAt ?? null,
      status: 'active',
      refreshFailures: 0,
      lastRefreshError: null,
      migrationStartedAt: null,
      grant: 'client_credentials',
      issuedAt: sentAt,
      authorizedAt: null,
    };
  }

  #open(row: TokenRow): string {
    return this.#ctx.records.open(row, 'access_token', row.accessToken);
  }
}
