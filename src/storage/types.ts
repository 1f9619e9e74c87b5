/**
 * The storage interface the vault writes through. Rows hold sealed values only: a backend never
 * sees a token in clear, and nothing here knows how values are encrypted.
 */

import type { TokenKind } from '../vault/types.ts';

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
  close(): Promise<void>;
}
