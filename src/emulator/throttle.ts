/**
 * The Admin API's leaky bucket, one per app and shop (reference §7.2): a query takes its cost from
 * the bucket, which refills at `restoreRate` points per second of the emulator's clock.
 */

import type { EmulatorThrottle } from './types.ts';

/** The bucket's state as Shopify reports it in `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** Every app-and-shop bucket of one emulator. */
export class Throttle {
  readonly #limits: EmulatorThrottle;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { available: number; at: number }>();

  constructor(limits: EmulatorThrottle, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Takes `cost` points when the bucket holds them; `ok: false` (nothing taken) when it does not. */
  take(shop: string, clientId: string, cost: number): { ok: boolean; status: ThrottleStatus } {
    const key = `${shop} ${clientId}`;
    const bucket = this.#refilled(key);
    const ok = cost <= bucket.available;
    if (ok) bucket.available -= cost;
    this.#buckets.set(key, bucket);
    return { ok, status: this.#status(bucket.available) };
  }

  /** The bucket without taking anything. */
  peek(shop: string, clientId: string): ThrottleStatus {
    return this.#status(this.#refilled(`${shop} ${clientId}`).available);
  }

  #refilled(key: string): { available: number; at: number } {
    const now = this.#now();
    const { maximumAvailable, restoreRate } = this.#limits;
    const bucket = this.#buckets.get(key) ?? { available: maximumAvailable, at: now };
    const restored = (Math.max(0, now - bucket.at) / 1000) * restoreRate;
    return { available: Math.min(maximumAvailable, bucket.available + restored), at: now };
  }

  #status(available: number): ThrottleStatus {
    return {
      maximumAvailable: this.#limits.maximumAvailable,
      currentlyAvailable: Math.floor(available),
      restoreRate: this.#limits.restoreRate,
    };
  }
}
