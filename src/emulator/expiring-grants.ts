/**
 * Expiring offline grants (reference §3): one active grant per app and shop, each a chain of
 * rotating refresh tokens. Only digests of refresh tokens are keys; the pair a refresh or a
 * migration returned is kept in memory so a retry can answer it again.
 *
 * Rules:
 * - a new grant (authorization code with expiring=1, migration) retires every refresh token of the
 *   older grant at once; its access tokens live until they expire (they are not touched here);
 * - a refresh rotates: new access token (1 h) and refresh token (a fresh 90 days);
 * - the previous refresh token stays retryable until its replacement is used, for at most 30 days
 *   from its own first use and never past its 90-day expiry; a retry answers the pair it answered
 *   the first time;
 * - a migration can be retried with the same non-expiring token for 7 days, until its pair is
 *   refreshed or replaced.
 */

import { createHash, randomBytes } from 'node:crypto';

/** Access-token lifetime of an expiring offline token, in seconds. */
export const ACCESS_TTL_SECONDS = 3600;
/** Refresh-token lifetime, in seconds (90 days). */
export const REFRESH_TTL_SECONDS = 7_776_000;
const RETRY_WINDOW_MS = 30 * 86_400_000;
const MIGRATION_RETRY_MS = 7 * 86_400_000;

/** A token pair as answered, with absolute expiries (ms since epoch). */
export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  scopes: string[];
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/** How the grants reach the access-token table they do not own. */
export interface AccessTokenIssuer {
  issue(shop: string, clientId: string, scopes: string[], expiresAt: number): string;
  extend(accessToken: string, expiresAt: number): void;
}

interface RefreshRecord {
  slot: string;
  scopes: string[];
  expiresAt: number;
  /** Digest of the refresh token this one replaced. */
  predecessor: string | null;
  /** Set on first use: when, and the pair that use answered. */
  used: { at: number; pair: IssuedPair } | null;
}

interface MigrationRecord {
  slot: string;
  at: number;
  pair: IssuedPair;
}

/** Digest under which a token is remembered (never its value). */
export const digest = (value: string) => createHash('sha256').update(value).digest('hex');
const slotKey = (shop: string, clientId: string) => `${shop} ${clientId}`;

/** The refresh tokens and migration records of every app and shop. */
export class ExpiringGrants {
  readonly #now: () => number;
  readonly #access: AccessTokenIssuer;
  readonly #refresh = new Map<string, RefreshRecord>();
  /** By digest of the migrated non-expiring token. */
  readonly #migrations = new Map<string, MigrationRecord>();

  constructor(now: () => number, access: AccessTokenIssuer) {
    this.#now = now;
    this.#access = access;
  }

  /** Starts a new grant for the app and shop, retiring the older grant's refresh tokens. */
  start(shop: string, clientId: string, scopes: string[]): IssuedPair {
    this.revoke(shop, clientId);
    return this.#issue(shop, clientId, scopes, null);
  }

  /** Retires every refresh token of the app and shop and ends any migration retry window. */
  revoke(shop: string, clientId: string): void {
    const slot = slotKey(shop, clientId);
    for (const [key, record] of this.#refresh) if (record.slot === slot) this.#refresh.delete(key);
    for (const [key, record] of this.#migrations) if (record.slot === slot) this.#migrations.delete(key);
  }

  /** Redeems a refresh token: the rotated pair, the same pair again on a retry, or `undefined`. */
  refresh(shop: string, clientId: string, refreshToken: string): IssuedPair | undefined {
    const key = digest(refreshToken);
    const record = this.#refresh.get(key);
    const now = this.#now();
    if (!record || record.slot !== slotKey(shop, clientId) || record.expiresAt <= now) return undefined;
    if (record.used) {
      if (now >= record.used.at + RETRY_WINDOW_MS) {
        this.#refresh.delete(key);
        return undefined;
      }
      // UNCONFIRMED (reference §3.2): Shopify documents that the previous refresh token may be
      // retried, not that the retry answers the identical pair (it does for migration, §3.3).
      // Answering the same pair is the reading an app can rely on: it never orphans a pair.
      return this.#replay(record.used.pair);
    }
    // First use: the replacement is now in use, so the token it replaced is retired, and a
    // migration that produced this grant can no longer be replayed.
    if (record.predecessor !== null) this.#refresh.delete(record.predecessor);
    for (const [subject, migration] of this.#migrations) {
      if (migration.slot === record.slot) this.#migrations.delete(subject);
    }
    const pair = this.#issue(shop, clientId, record.scopes, key);
    record.used = { at: now, pair };
    return pair;
  }

  /** The pair of an earlier migration of `subjectDigest` while its 7-day retry window is open. */
  migrationRetry(shop: string, clientId: string, subjectDigest: string): IssuedPair | undefined {
    const record = this.#migrations.get(subjectDigest);
    if (!record || record.slot !== slotKey(shop, clientId)) return undefined;
    if (this.#now() >= record.at + MIGRATION_RETRY_MS) {
      this.#migrations.delete(subjectDigest);
      return undefined;
    }
    return this.#replay(record.pair);
  }

  /** Starts the grant of a migration and remembers it for retries. */
  migrate(shop: string, clientId: string, scopes: string[], subjectDigest: string): IssuedPair {
    const pair = this.start(shop, clientId, scopes);
    this.#migrations.set(subjectDigest, { slot: slotKey(shop, clientId), at: this.#now(), pair });
    return pair;
  }

  /** The same pair again; a lapsed access token is extended by a fresh hour (not the refresh token). */
  #replay(pair: IssuedPair): IssuedPair {
    const now = this.#now();
    if (pair.accessExpiresAt <= now) {
      pair.accessExpiresAt = now + ACCESS_TTL_SECONDS * 1000;
      this.#access.extend(pair.accessToken, pair.accessExpiresAt);
    }
    return pair;
  }

  #issue(shop: string, clientId: string, scopes: string[], predecessor: string | null): IssuedPair {
    const now = this.#now();
    const accessExpiresAt = now + ACCESS_TTL_SECONDS * 1000;
    const accessToken = this.#access.issue(shop, clientId, scopes, accessExpiresAt);
    const refreshToken = `shprt_${randomBytes(16).toString('hex')}`;
    const refreshExpiresAt = now + REFRESH_TTL_SECONDS * 1000;
    this.#refresh.set(digest(refreshToken), {
      slot: slotKey(shop, clientId),
      scopes,
      expiresAt: refreshExpiresAt,
      predecessor,
      used: null,
    });
    return { accessToken, refreshToken, scopes, accessExpiresAt, refreshExpiresAt };
  }
}
