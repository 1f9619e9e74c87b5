/**
 * The storage contract: what a backend (SQLite, PostgreSQL, MySQL, Redis, memory, or one a user
 * writes) must do for the vault. Rows hold sealed values only — a backend never sees a token in
 * clear — and plain numbers the vault computes: a backend stores, indexes and compares; it never
 * applies vault policy. `runStorageConformance` (`shoptoken/testing`) checks every rule stated here.
 *
 * Rules every backend keeps:
 * - **Identity and order.** A row is identified by (`app`, `shop`, `kind`, `userId`); every listing
 *   is ordered by those four, compared **bytewise** (UTF-8 code units, as `Buffer.compare`, i.e.
 *   SQL `COLLATE "C"` / binary collations), never by a locale.
 * - **What a write keeps.** `put` and `swap` store every field of the row they are given, except
 *   `createdAt` and `installedAt`, which keep the stored row's values (a new row takes them from the
 *   given row). `installedAt` changes only through `markInstalled`, and goes away with the row.
 * - **Atomic compare-and-set.** `swap` writes only when the stored sealed value still equals the
 *   expected one, in one atomic step, and says whether it wrote.
 * - **Bounded reads.** `list` and `due` return pages; a page reads only the rows it returns.
 */

import type { WebhookStorage } from './webhook-types.ts';

/** `offline`: the shop's token; `online`: one staff user's. */
export type TokenKind = 'offline' | 'online';

/**
 * How a shop's offline token is obtained: `authorization_code` (install or token exchange; expiring
 * or not), `client_credentials` (a 24 h token for a store of the app's own organization, renewed by
 * repeating the grant), or `custom` (a custom app's static token, imported).
 */
export type TokenGrant = 'authorization_code' | 'client_credentials' | 'custom';

/**
 * Whether a shop's offline token can still be used: `needs_reauth` once Shopify refused it (or its
 * refresh token) for good; a new install stores a fresh, `active` row.
 */
export type TokenStatus = 'active' | 'needs_reauth';

/** What identifies a row. */
export interface TokenKey {
  /**
   * The Shopify app (its client id) the token belongs to; `''` for the one app of a single-app
   * store. One store can hold the tokens of several apps.
   */
  app: string;
  /** Canonical shop domain. */
  shop: string;
  kind: TokenKind;
  /** The staff user's id for online rows; `''` for offline rows. */
  userId: string;
}

/** One stored token record. Times are epoch milliseconds (integers). */
export interface TokenRow extends TokenKey {
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
  /**
   * When the token should be renewed ahead of time by repeating its grant (client-credentials tokens:
   * 80 % of the lifetime or 5 minutes before expiry, whichever is earlier), as the vault computed it;
   * `null` for tokens renewed otherwise. Indexed for {@link TokenStorage.due} (`renew`).
   */
  renewAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** When the install this offline token belongs to completed (`afterAuth` succeeded); offline only. */
  installedAt: number | null;
  /** `active` unless the offline token can no longer be used. */
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
  /**
   * Offline only: when the merchant's authorization this token descends from was exchanged (the
   * install flow's offline leg, a token exchange); refreshes and migrations keep it. `null` when
   * unknown (imported, custom-app and client-credentials tokens). A late `app/uninstalled` whose
   * event is older than this leaves the row alone: it belongs to a newer install.
   */
  authorizedAt: number | null;
}

/** The sealed value a compare-and-set expects to find, exactly as it was read. */
export type Expected = { refreshToken: string } | { accessToken: string };

/** A position in a scan of due rows: the (time, shop) of the last row read. */
export interface DueCursor {
  at: number;
  shop: string;
}

/**
 * The keeper's indexes over an app's **active** offline rows:
 * - `access`: expiring rows (with a refresh token) by `expiresAt`;
 * - `refresh`: expiring rows by `refreshTokenExpiresAt`;
 * - `renew`: rows with a `renewAt`, by `renewAt`.
 */
export type DueIndex = 'access' | 'refresh' | 'renew';

/** One page of a {@link TokenStorage.due} scan. */
export interface DueQuery {
  app: string;
  /** Rows whose indexed time is at or before this. */
  before: number;
  /** At most this many rows (1 to 10,000). */
  limit: number;
  /** Only rows strictly after this (time, shop), in the index's order. */
  after?: DueCursor;
}

/** One page of a {@link TokenStorage.list}. */
export interface ListQuery {
  /** Only this app's rows; every app's when absent. */
  app?: string;
  /** Only rows strictly after this key, in (app, shop, kind, userId) bytewise order. */
  after?: TokenKey;
  /** At most this many rows (1 to 10,000). */
  limit: number;
}

/**
 * Leases: short, expiring claims that coordinate processes sharing a store (one refresh per shop at
 * a time, one `afterAuth` per install, the keeper's share of due rows). A lease is held by an
 * `owner` (a random id per holder) until it is released or its time runs out; expiry is the
 * store's clock's business (its server time where it has one).
 */
export interface LeaseStore {
  /**
   * Takes `key` for `owner` for `ttlMs` when it is free or its lease has expired (or `owner`
   * already holds it: then it is extended); true when `owner` holds it afterwards. Atomic.
   */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease `owner` holds on `key` to `ttlMs` from now; false when it is not (or no longer) theirs. */
  extend(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Ends the lease `owner` holds on `key`; false when it was not theirs (expired and taken, or never held). */
  release(key: string, owner: string): Promise<boolean>;
}

/**
 * Pending OAuth states of the install flow, shared by every instance so a callback may land on any
 * of them. Values are opaque to the store.
 */
export interface StateStorage {
  /** Remembers `value` under `state` until `expiresAt` (epoch ms, the caller's clock). */
  save(state: string, value: string, expiresAt: number): Promise<void>;
  /** Removes and returns the value of `state` (single use, atomic), or null when unknown or expired at `now`. */
  take(state: string, now: number): Promise<string | null>;
}

/**
 * Where token rows live. Implementations: `createMemoryStorage` (tests), `openSqliteStorage` (the
 * embedded default) and the backends `openStorage(url)` picks by URL.
 */
export interface TokenStorage {
  /** The backend's name for messages: `sqlite`, `postgres`, `mysql`, `redis`, `memory`, … */
  readonly name: string;
  /** The row of `key`, or `null`. */
  get(key: TokenKey): Promise<TokenRow | null>;
  /**
   * Optional: the stored rows among `keys` (at most 100, of any apps and kinds), in any order;
   * a key without a row is simply absent. A network store answers it with one statement, and the
   * vault then coalesces the reads asked for in one event-loop turn into one call (see
   * storage/read-batch.ts); a store that answers in-process (SQLite, memory) leaves it out.
   */
  getMany?(keys: readonly TokenKey[]): Promise<TokenRow[]>;
  /** Inserts or replaces the row of its key (keeping the stored `createdAt` and `installedAt`). */
  put(row: TokenRow): Promise<void>;
  /**
   * Compare-and-set of a row: writes `next` (keeping the stored `createdAt` and `installedAt`) only
   * if the stored sealed refresh token (or access token) is still the expected one. Atomic; true
   * when it wrote. `next` has the same key.
   */
  swap(key: TokenKey, expected: Expected, next: TokenRow): Promise<boolean>;
  /** Sets `installedAt` of the offline row of (app, shop) if it is unset; true when the row exists. Touches nothing else. */
  markInstalled(app: string, shop: string, at: number): Promise<boolean>;
  /** Deletes the online row of (app, shop, userId) (a sign-out); true when there was one. */
  deleteOnline(app: string, shop: string, userId: string): Promise<boolean>;
  /** Deletes every row of (app, shop), offline and online (an uninstall, a redaction); returns how many. */
  deleteShop(app: string, shop: string): Promise<number>;
  /** A page of rows in (app, shop, kind, userId) bytewise order. */
  list(query: ListQuery): Promise<TokenRow[]>;
  /**
   * A page of an app's active offline rows due by `before` on `index`, soonest first (ties by shop,
   * bytewise), strictly after `after`. Served by an index on (app, that time, shop).
   */
  due(index: DueIndex, query: DueQuery): Promise<TokenRow[]>;
  /** Leases over the same store, for coordination across processes. */
  readonly leases: LeaseStore;
  /** OAuth states over the same store. */
  readonly states: StateStorage;
  /**
   * The webhook inbox over the same store (dedupe and the durable queue). Every backend shoptoken
   * ships has one; a store written by a user may leave it out, and then webhooks cannot use it.
   */
  readonly webhooks?: WebhookStorage;
  /** Closes the connection(s); every later call rejects with `ERR_STORAGE`. */
  close(): Promise<void>;
}
