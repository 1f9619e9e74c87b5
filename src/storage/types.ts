/**
 * The storage interface the vault writes through. Rows hold sealed values only: a backend never
 * sees a token in clear, and nothing here knows how values are encrypted.
 */

import type { TokenGrant, TokenKind } from '../vault/types.ts';

/**
 * Whether a shop's offline token can still be refreshed: `needs_reauth` once Shopify refused the
 * refresh token for good (`invalid_grant`, `invalid_client`, or it lapsed); a new install resets it.
 */
export type TokenStatus = 'active' | 'needs_reauth';

/** One stored token record. Times are epoch milliseconds. */
export interface TokenRow {
  /** Canonical shop domain. */
  shop: string;
  kind: TokenKind;
  /** `''` for offline tokens. */
  userId: string;
  /** Sealed access token. */
  accessToken: string;
  /** Sealed refresh token (expiring offline tokens only). */
  refreshToken: string | null;
  /**
   * Sealed refresh token the current pair was obtained with. Shopify accepts it again (answering
   * with the same pair) until the current refresh token is used, so it is kept for recovery and
   * replaced when the current one is used successfully.
   */
  previousRefreshToken: string | null;
  /** Sealed JSON of the associated user (online tokens only). */
  user: string | null;
  /** Granted scopes, comma-separated. */
  scopes: string;
  /** The user's scopes, comma-separated (online tokens only). */
  associatedUserScopes: string | null;
  expiresAt: number | null;
  refreshTokenExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** When the install this offline token belongs to completed (`afterAuth` succeeded); offline only. */
  installedAt: number | null;
  /** `active` unless the offline token can no longer be refreshed. */
  status: TokenStatus;
  /** Refreshes that failed in a row (reset by a successful refresh or a new token). */
  refreshFailures: number;
  /** Why the last refresh failed: an error code such as `invalid_grant` or `ERR_TRANSPORT`, never a value. */
  lastRefreshError: string | null;
  /**
   * Offline only: when a migration to an expiring token was started (the intent record, written
   * before the irreversible exchange) and not yet stored; `null` otherwise. A row with an intent
   * still holds the non-expiring token the exchange was sent with, so a rerun repeats that exchange.
   */
  migrationStartedAt: number | null;
  /** Offline only: how the token is obtained (`authorization_code` for online rows too). */
  grant: TokenGrant;
  /** When the access token was requested (client credentials: the renewal schedule counts from it), or `null`. */
  issuedAt: number | null;
}

/** The refresh token a compare-and-set expects to find: the sealed string exactly as it was read. */
export interface ExpectedRefreshToken {
  refreshToken: string;
}

/** The access token a compare-and-set expects to find: the sealed string exactly as it was read. */
export interface ExpectedAccessToken {
  accessToken: string;
}

/** A position in a scan of due rows: the (time, shop) of the last row read. */
export interface DueCursor {
  at: number;
  shop: string;
}

/** Which expiry a {@link TokenStorage.dueOffline} scan orders by, and where it resumes. */
export interface DueOptions {
  /** `expiresAt` (the access token; the default) or `refreshTokenExpiresAt`. */
  by?: 'expiresAt' | 'refreshTokenExpiresAt';
  /** Return only rows after this position (exclusive). */
  after?: DueCursor;
}

/**
 * Where token rows live. Implementations: {@link createMemoryStorage} (tests) and
 * {@link openSqliteStorage} (the embedded default).
 */
export interface TokenStorage {
  /** The row for (shop, kind, userId), or `null`. */
  get(shop: string, kind: TokenKind, userId: string): Promise<TokenRow | null>;
  /** Inserts or replaces the row keyed by (shop, kind, userId); an update keeps the original `createdAt`. */
  put(row: TokenRow): Promise<void>;
  /** Every row, ordered by shop, kind, userId. */
  list(): Promise<TokenRow[]>;
  /**
   * Compare-and-set of a shop's offline row: writes `next` only if the stored sealed refresh token is
   * still `expected.refreshToken` (sealed values are unique per seal, so this identifies the version
   * read). One atomic statement; true when it wrote. Keeps the stored `createdAt` and `installedAt`.
   */
  swapOffline(shop: string, expected: ExpectedRefreshToken, next: TokenRow): Promise<boolean>;
  /**
   * Compare-and-set of a shop's offline row on its sealed access token (for rows without a refresh
   * token, such as a non-expiring token being migrated): writes `next` only if the stored sealed
   * access token is still `expected.accessToken`. One atomic statement; true when it wrote. Writes
   * the same columns as {@link swapOffline} and keeps the stored `createdAt` and `installedAt`.
   */
  swapOfflineAccess(shop: string, expected: ExpectedAccessToken, next: TokenRow): Promise<boolean>;
  /** Deletes the online row of (shop, userId) (a sign-out); true when there was one. Never touches an offline row. */
  deleteOnline(shop: string, userId: string): Promise<boolean>;
  /** Sets `installedAt` of the shop's offline row if it is unset; true when the row exists. Touches nothing else. */
  markInstalled(shop: string, at: number): Promise<boolean>;
  /**
   * Active expiring offline rows due by `before`, soonest first (ties by shop), at most `limit`. Due
   * means the access token expires at or before `before`, or, with `by: 'refreshTokenExpiresAt'`,
   * the refresh token does. `after` resumes a scan: only rows strictly after that (time, shop) in the
   * same order. Served by an index on (that time, shop): a page reads only the rows it returns.
   */
  dueOffline(before: number, limit: number, options?: DueOptions): Promise<TokenRow[]>;
  /**
   * Active client-credentials offline rows (`grant: 'client_credentials'`, with an expiry) whose
   * renewal is due by `before`, soonest first (ties by shop), at most `limit`. The renewal time is
   * {@link credentialsRenewalAt}: 80 % of the lifetime or 5 minutes before expiry, whichever is
   * earlier. `after` resumes a scan as in {@link dueOffline}, on (renewal time, shop). Served by an
   * index on (renewal time, shop): a page reads only the rows it returns.
   */
  dueCredentials(before: number, limit: number, options?: Pick<DueOptions, 'after'>): Promise<TokenRow[]>;
  close(): Promise<void>;
}
