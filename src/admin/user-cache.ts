/**
 * A response cache scoped to each user: every entry is keyed by shop and user (offline = `null`), so
 * data fetched with one user's permissions is never served to another user or to the offline token
 * (shopify-protocol §9: "scope the cache to each individual user"). Entries expire after `ttlMs`;
 * the least recently used entry goes first beyond `maxEntries`.
 */

import { ConfigError } from '../errors.ts';
import { isShopDomain } from '../protocol/shop.ts';

/** What a cached answer depends on. `userId` is required: `null` for the offline token. */
export interface UserCacheKey {
  shop: string;
  userId: string | null;
  query: string;
  variables?: Record<string, unknown>;
}

/** Options of {@link createUserCache}. */
export interface UserCacheOptions {
  /** How long an entry is served, ms (> 0). */
  ttlMs: number;
  /** Most entries kept (a positive integer). */
  maxEntries: number;
  /** Clock in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/** A per-user response cache. */
export interface UserCache<V = unknown> {
  /** The unexpired value for `key`, or `undefined`. */
  get(key: UserCacheKey): V | undefined;
  set(key: UserCacheKey, value: V): void;
  /** The cached value for `key`, else `fn()`'s value, cached (a rejection is not cached). */
  wrap(key: UserCacheKey, fn: () => Promise<V>): Promise<V>;
  /** Number of entries held (expired ones included until they are read or evicted). */
  readonly size: number;
}

const USER_ID = /^\d{1,20}$/;

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same variables. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** The entry's key string; throws a TypeError when shop or user is missing or malformed. */
function keyOf(key: UserCacheKey): string {
  const problems = [
    ...(isShopDomain(key?.shop) ? [] : ['shop must be a canonical shop domain']),
    ...(key?.userId === null || (typeof key?.userId === 'string' && USER_ID.test(key.userId))
      ? []
      : ['userId must be digits, or null for the offline token']),
    ...(typeof key?.query === 'string' ? [] : ['query must be a string']),
  ];
  if (problems.length > 0) throw new TypeError(`invalid cache key: ${problems.join('; ')}`);
  return canonical([key.shop, key.userId, key.query, key.variables ?? {}]);
}

/**
 * Builds a per-user cache. Options are checked here (ConfigError lists every problem).
 *
 * @example
 * const cache = createUserCache<AdminResult>({ ttlMs: 30_000, maxEntries: 1000 });
 * const key = { shop, userId, query: '{ orders(first: 5) { nodes { id } } }' };
 * const result = await cache.wrap(key, () => admin(shop, { userId }).request(key.query));
 */
export function createUserCache<V = unknown>(options: UserCacheOptions): UserCache<V> {
  const problems: string[] = [];
  const { ttlMs, maxEntries } = options ?? ({} as UserCacheOptions);
  const now = options?.now ?? Date.now;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) problems.push('ttlMs must be a number > 0');
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) problems.push('maxEntries must be a positive integer');
  if (typeof now !== 'function') problems.push('now must be a function');
  if (problems.length > 0) throw new ConfigError(problems);

  // A Map iterates in insertion order: re-inserting on every hit keeps the least recent first.
  const entries = new Map<string, { value: V; expiresAt: number }>();

  function get(key: UserCacheKey): V | undefined {
    const id = keyOf(key);
    const entry = entries.get(id);
    if (!entry) return undefined;
    entries.delete(id);
    if (now() >= entry.expiresAt) return undefined;
    entries.set(id, entry);
    return entry.value;
  }

  function set(key: UserCacheKey, value: V): void {
    const id = keyOf(key);
    entries.delete(id);
    entries.set(id, { value, expiresAt: now() + ttlMs });
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  }

  return {
    get,
    set,
    async wrap(key, fn) {
      const hit = get(key);
      if (hit !== undefined) return hit;
      const value = await fn();
      set(key, value);
      return value;
    },
    get size() {
      return entries.size;
    },
  };
}
