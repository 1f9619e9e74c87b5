/**
 * Admin API call results kept briefly in memory between the POST that makes the call and the GET
 * it redirects to (post-redirect-get), so reloading the page shows the result again instead of
 * repeating the call. Each result is readable only by the browser session (shop and user) that
 * made it, under a random id; the store is bounded in size and time.
 */

import { randomBytes } from 'node:crypto';

/** What the app page shows for one call. */
export interface CallResult {
  label: string;
  body: unknown;
}

/** Who may read a result: the shop and staff user of the session that made the call. */
export interface ResultOwner {
  shop: string;
  userId: string;
}

export interface ResultStoreOptions {
  /** How long a result stays readable; default 10 minutes. */
  ttlMs?: number;
  /** How many results are kept; the oldest goes first. Default 200. */
  maxEntries?: number;
  /** Default Date.now. */
  now?: () => number;
}

export interface ResultStore {
  /** Keeps `result` for `owner` and returns its id (URL-safe). */
  put(owner: ResultOwner, result: CallResult): string;
  /** The result under `id` when `owner` made it and it has not expired; else undefined. */
  get(owner: ResultOwner, id: string): CallResult | undefined;
}

interface Entry {
  owner: ResultOwner;
  result: CallResult;
  expiresAt: number;
}

/**
 * @example
 * const results = createResultStore();
 * const id = results.put({ shop, userId }, { label: 'shop via offline', body });
 * ctx.redirect(`/app?result=${id}#result`);
 */
export function createResultStore(options: ResultStoreOptions = {}): ResultStore {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 200;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, so its first entries are the oldest.
  const entries = new Map<string, Entry>();

  function prune(): void {
    const time = now();
    for (const [id, entry] of entries) {
      if (entry.expiresAt > time && entries.size <= maxEntries) break;
      entries.delete(id);
    }
  }

  return {
    put(owner, result) {
      const id = randomBytes(16).toString('base64url');
      entries.set(id, { owner: { ...owner }, result, expiresAt: now() + ttlMs });
      prune();
      return id;
    },
    get(owner, id) {
      prune();
      const entry = entries.get(id);
      if (!entry || entry.owner.shop !== owner.shop || entry.owner.userId !== owner.userId) return undefined;
      return entry.result;
    },
  };
}
