/**
 * The demo's activity log: what happened on each shop, in memory, newest last — the webhooks the app
 * received, the fulfillment requests it accepted, the stock and tracking numbers it answered, and
 * what the demo controls made Shopify (the emulator) do. The app page shows it; the controls wait on
 * it, so the page they redirect to already shows what the worker did with Shopify's request.
 */

/** Who did it: Shopify (the emulator, played by the demo controls), the app, or shoptoken itself. */
export type ActivitySource = 'shopify' | 'app' | 'shoptoken';

/** One line of the log. */
export interface ActivityEntry {
  /** Increasing over the whole log: what {@link ActivityLog.mark} and {@link ActivityLog.waitFor} compare. */
  seq: number;
  /** When, on the demo's clock (the emulator's: it jumps when "three weeks pass"), ms since epoch. */
  at: number;
  source: ActivitySource;
  /** A short machine name: `install`, `accepted`, `uninstalled`, … (the page's `data-kind`). */
  kind: string;
  text: string;
}

export interface ActivityLogOptions {
  /** The demo's clock; default Date.now. */
  now?: () => number;
  /** Entries kept per shop, the oldest dropped first; default 200. */
  maxEntries?: number;
}

export interface ActivityLog {
  add(shop: string, source: ActivitySource, kind: string, text: string): ActivityEntry;
  /** The shop's entries, oldest first. */
  list(shop: string): readonly ActivityEntry[];
  /** The sequence number of the last entry: pass it to {@link ActivityLog.waitFor}. */
  mark(): number;
  /**
   * Resolves true once the shop has an entry of one of `kinds` newer than `after` (a {@link mark}),
   * or false after `timeoutMs`.
   */
  waitFor(shop: string, kinds: readonly string[], after: number, timeoutMs: number): Promise<boolean>;
  /** Forgets the shop's entries (`shop/redact`). */
  erase(shop: string): void;
}

interface Waiter {
  shop: string;
  kinds: readonly string[];
  after: number;
  done: (found: boolean) => void;
}

/**
 * @example
 * const activity = createActivityLog({ now: emulator.clock.now });
 * const mark = activity.mark();
 * await emulator.requestFulfillment(shop, apiKey, { lineItems });
 * await activity.waitFor(shop, ['accepted'], mark, 5000); // the worker accepted it
 */
export function createActivityLog(options: ActivityLogOptions = {}): ActivityLog {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 200;
  const byShop = new Map<string, ActivityEntry[]>();
  const waiters = new Set<Waiter>();
  let seq = 0;

  const matches = (entry: ActivityEntry, waiter: Waiter) =>
    entry.seq > waiter.after && waiter.kinds.includes(entry.kind);

  return {
    add(shop, source, kind, text) {
      const entry: ActivityEntry = { seq: ++seq, at: now(), source, kind, text };
      const entries = byShop.get(shop) ?? [];
      entries.push(entry);
      if (entries.length > maxEntries) entries.splice(0, entries.length - maxEntries);
      byShop.set(shop, entries);
      for (const waiter of waiters) {
        if (waiter.shop === shop && matches(entry, waiter)) waiter.done(true);
      }
      return entry;
    },
    list: (shop) => byShop.get(shop) ?? [],
    mark: () => seq,
    waitFor(shop, kinds, after, timeoutMs) {
      return new Promise((resolve) => {
        const waiter: Waiter = {
          shop,
          kinds,
          after,
          done: (found) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(found);
          },
        };
        const timer = setTimeout(() => waiter.done(false), timeoutMs);
        waiters.add(waiter);
        if ((byShop.get(shop) ?? []).some((entry) => matches(entry, waiter))) waiter.done(true);
      });
    },
    erase(shop) {
      byShop.delete(shop);
    },
  };
}
