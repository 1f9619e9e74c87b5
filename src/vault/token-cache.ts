/**
 * An in-process cache of decrypted offline tokens for `vault.token(shop)`, the hot path of every
 * webhook, job and Admin API call. An entry is served only while its access token stays valid for
 * the caller's margin, and for at most `maxAgeMs` (so a token re-minted by another process is
 * picked up); every write through this vault drops the shop's entry. Serving a cached token that
 * another process has since refreshed is safe: Shopify keeps a replaced access token valid until
 * it expires. Bounded: the least recently used entries go first.
 */

import type { OfflineToken } from './types.ts';

export interface TokenCacheOptions {
  /** Entries kept at most; default 10,000. 0 turns the cache off. */
  maxEntries?: number;
  /** How long an entry may be served, whatever its expiry; default 60 s. */
  maxAgeMs?: number;
}

interface Entry {
  token: OfflineToken;
  storedAt: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;

  constructor(options: TokenCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** The cached token when it is valid for `marginMs` more and young enough; else undefined. */
  get(shop: string, now: number, marginMs: number): OfflineToken | undefined {
    const entry = this.#entries.get(shop);
    if (!entry) return undefined;
    const expiresAt = entry.token.expiresAt?.getTime() ?? null;
    if (now - entry.storedAt > this.#maxAgeMs || (expiresAt !== null && expiresAt - now < marginMs)) {
      this.#entries.delete(shop);
      return undefined;
    }
    // Re-insert to mark it most recently used.
    this.#entries.delete(shop);
    this.#entries.set(shop, entry);
    return entry.token;
  }

  set(shop: string, token: OfflineToken, now: number): void {
    if (this.#maxEntries === 0) return;
    this.#entries.delete(shop);
    this.#entries.set(shop, { token, storedAt: now });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  delete(shop: string): void {
    this.#entries.delete(shop);
  }

  get size(): number {
    return this.#entries.size;
  }
}
