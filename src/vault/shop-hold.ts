/**
 * A long, per-shop backoff after an answer Shopify does not document for the grant (a 404 from the
 * token endpoint, an unknown 4xx: "ambiguous" in shopify-protocol §3.6). It is neither a refusal
 * (the shop is never marked) nor a fault worth retrying at once: no request for that shop is sent
 * for 5 minutes, then 10, 20, 40 and at most 1 hour after each further such answer, on the vault's
 * clock. A successful grant clears it. Kept in this process's memory.
 */

/** The first hold, ms. */
export const FIRST_HOLD_MS = 5 * 60_000;
/** The longest hold, ms. */
export const MAX_HOLD_MS = 60 * 60_000;

/** A hold still running. */
export interface Hold {
  /** No request before this time (ms on the vault's clock). */
  until: number;
  /** The answer that started it, value-free: `HTTP 404`. */
  reason: string;
}

interface Entry extends Hold {
  /** Unexplained answers in a row. */
  count: number;
}

/** The holds of one vault, by shop. */
export class ShopHolds {
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The shop's hold while it runs; `null` when a request may go. */
  active(shop: string): Hold | null {
    const entry = this.#entries.get(shop);
    if (!entry || this.#now() >= entry.until) return null;
    return { until: entry.until, reason: entry.reason };
  }

  /** Starts the shop's next hold (twice the last one, at most {@link MAX_HOLD_MS}); returns its end. */
  hold(shop: string, reason: string): number {
    const count = (this.#entries.get(shop)?.count ?? 0) + 1;
    const until = this.#now() + Math.min(MAX_HOLD_MS, FIRST_HOLD_MS * 2 ** (count - 1));
    this.#entries.set(shop, { until, reason, count });
    return until;
  }

  /** A grant for the shop succeeded (or its row was replaced): no hold any more. */
  clear(shop: string): void {
    this.#entries.delete(shop);
  }
}
