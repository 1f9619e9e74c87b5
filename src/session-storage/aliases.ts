/**
 * Session ids that name no vault row by themselves: a non-embedded app's online sessions, whose id
 * `@shopify/shopify-api` draws at random (and keeps in a signed cookie). The drop-in storage keeps
 * the token under its user's row like any online token and remembers `id → (shop, user)` here until
 * the token expires. The default keeps it in the process's memory, which serves one instance (or
 * sticky sessions); an app running several instances gives a shared {@link SessionAliases}.
 * Embedded apps (ids `{shop}_{userId}`) and offline sessions never need one.
 */

/** Where a session id points. */
export interface AliasTarget {
  shop: string;
  userId: string;
}

/** A map of session ids to online token rows, with expiry. Implement it over a shared store for several instances. */
export interface SessionAliases {
  /** The row `id` points to, or null when unknown or expired. */
  get(id: string): Promise<AliasTarget | null>;
  /** Remembers that `id` points to `target` until `expiresAt` (epoch ms). */
  set(id: string, target: AliasTarget, expiresAt: number): Promise<void>;
  /** Forgets `id`. */
  delete(id: string): Promise<void>;
}

/** Options of {@link createMemorySessionAliases}. */
export interface MemorySessionAliasesOptions {
  /** Clock in epoch ms; `Date.now` by default. */
  now?: () => number;
  /** At most this many ids are kept (the oldest go first); 100,000 by default. */
  maxEntries?: number;
}

/**
 * Session aliases in this process's memory, swept of expired ids as they are set.
 *
 * @example
 * const storage = createSessionStorage(vault, { aliases: createMemorySessionAliases({ maxEntries: 10_000 }) });
 */
export function createMemorySessionAliases(options: MemorySessionAliasesOptions = {}): SessionAliases {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a whole number ≥ 1');
  const entries = new Map<string, { target: AliasTarget; expiresAt: number }>();
  return {
    async get(id) {
      const entry = entries.get(id);
      if (!entry) return null;
      if (entry.expiresAt <= now()) {
        entries.delete(id);
        return null;
      }
      return { ...entry.target };
    },
    async set(id, target, expiresAt) {
      const at = now();
      for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key);
      entries.delete(id);
      entries.set(id, { target: { shop: target.shop, userId: target.userId }, expiresAt });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    async delete(id) {
      entries.delete(id);
    },
  };
}
