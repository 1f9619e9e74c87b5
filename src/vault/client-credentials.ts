/**
 * Client-credentials tokens (shopify-protocol §4) for shops of the app's own organization: acquired
 * with `grant_type=client_credentials`, stored sealed on the shop's offline row (grant
 * `client_credentials`), and renewed by repeating the grant once 80 % of the lifetime has passed or
 * 5 minutes before expiry, whichever is earlier. One grant per shop at a time in this process; a
 * renewal is stored with a compare-and-set on the access token it replaces.
 */

import { OAuthResponseError, ShoptokenError } from '../errors.ts';
import { type ClientCredentialsTokenResponse, requestClientCredentials } from '../protocol/client-credentials.ts';
import { formatScopes } from '../protocol/scopes.ts';
import { renewalTime } from '../storage/renewal.ts';
import type { TokenRow } from '../storage/types.ts';
import { type TokenField, tokenAad } from './keyring.ts';
import { backoffDelay, type FreshToken, type RefresherContext, tokenEndpoint } from './refresher.ts';

const aad = (shop: string, field: TokenField): string => tokenAad({ shop, kind: 'offline', userId: '', field });

/** True when the row's client-credentials token must be renewed before use. */
export function credentialsDue(row: TokenRow, now: number, marginMs: number): boolean {
  if (row.expiresAt === null) return true;
  return now >= renewalTime(row.issuedAt ?? row.updatedAt, row.expiresAt, marginMs);
}

/** Shopify refused the app's credentials for this shop: a clear error, never retried. */
function refusedError(shop: string, error: OAuthResponseError): ShoptokenError {
  return new ShoptokenError(
    'ERR_OAUTH_RESPONSE',
    `Shopify refused client credentials for ${shop} (${error.error}, HTTP ${error.status}): they are only for ` +
      'stores of the app’s own organization where the app is installed; check the shop and the app’s credentials',
    { cause: error },
  );
}

/** Acquires and renews client-credentials tokens for one vault. */
export class ClientCredentials {
  readonly #ctx: RefresherContext;
  readonly #inFlight = new Map<string, Promise<FreshToken>>();

  constructor(context: RefresherContext) {
    this.#ctx = context;
  }

  /** Requests a token now and stores it as the shop's offline token (replacing any other). */
  acquire(shop: string): Promise<FreshToken> {
    return this.#single(shop, () => this.#run(shop, null));
  }

  /** The shop's client-credentials token, renewed first when it is due for `marginMs`. */
  renew(shop: string, marginMs: number): Promise<FreshToken> {
    return this.#single(shop, () => this.#run(shop, marginMs));
  }

  #single(shop: string, start: () => Promise<FreshToken>): Promise<FreshToken> {
    const pending = this.#inFlight.get(shop);
    if (pending) return pending;
    const run = start().finally(() => this.#inFlight.delete(shop));
    this.#inFlight.set(shop, run);
    return run;
  }

  /** `marginMs === null`: acquire unconditionally; else renew only when due (re-read first). */
  async #run(shop: string, marginMs: number | null): Promise<FreshToken> {
    const { storage, now, policy } = this.#ctx;
    let lastError: ShoptokenError | undefined;
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      if (lastError) await policy.sleep(backoffDelay(policy, attempt - 1));
      const row = await storage.get(shop, 'offline', '');
      if (marginMs !== null) {
        if (row?.grant !== 'client_credentials') {
          throw new ShoptokenError('ERR_NEEDS_REAUTH', `${shop} has no client-credentials token any more`);
        }
        if (!credentialsDue(row, now(), marginMs)) return { row, accessToken: this.#open(row) };
      }
      const sentAt = now();
      let token: ClientCredentialsTokenResponse;
      try {
        token = await requestClientCredentials(tokenEndpoint(this.#ctx, shop));
      } catch (error) {
        if (error instanceof OAuthResponseError && !error.retryable) throw refusedError(shop, error);
        if (!(error instanceof ShoptokenError && error.retryable)) throw error;
        lastError = error;
        continue;
      }
      const next = this.#row(shop, row, token, sentAt);
      if (marginMs === null || row === null) {
        await storage.put(next);
        return { row: next, accessToken: token.accessToken };
      }
      if (await storage.swapOfflineAccess(shop, { accessToken: row.accessToken }, next)) {
        return { row: next, accessToken: token.accessToken };
      }
      // Another renewer stored a newer token: the next pass reads it (and returns it when fresh).
    }
    throw (
      lastError ??
      new ShoptokenError('ERR_STORAGE', `the token of ${shop} kept changing during the renewal`, { retryable: true })
    );
  }

  /** The row holding a new client-credentials token; an existing row keeps its `createdAt` and install. */
  #row(shop: string, existing: TokenRow | null, token: ClientCredentialsTokenResponse, sentAt: number): TokenRow {
    const at = this.#ctx.now();
    return {
      shop,
      kind: 'offline',
      userId: '',
      accessToken: this.#ctx.ring.seal(token.accessToken, aad(shop, 'access_token')),
      refreshToken: null,
      previousRefreshToken: null,
      user: null,
      scopes: formatScopes(token.scopes),
      associatedUserScopes: null,
      // The lifetime counts from when the request left, so the stored expiry is never late.
      expiresAt: sentAt + token.expiresIn * 1000,
      refreshTokenExpiresAt: null,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      installedAt: existing?.installedAt ?? null,
      status: 'active',
      refreshFailures: 0,
      lastRefreshError: null,
      migrationStartedAt: null,
      grant: 'client_credentials',
      issuedAt: sentAt,
    };
  }

  #open(row: TokenRow): string {
    return this.#ctx.ring.open(row.accessToken, aad(row.shop, 'access_token'));
  }
}
