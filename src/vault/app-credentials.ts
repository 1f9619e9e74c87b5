/**
 * Whether Shopify accepts the APP's credentials (client id and secret), as this process last saw it.
 * `invalid_client` on any grant means the app's secret is wrong, rotated or revoked: no shop is at
 * fault, so none is marked. Instead the vault enters a "rejected" state:
 *
 * ```
 *            invalid_client                          a probe is refused
 *   ok ─────────────────────────▶ rejected ◀───────────────────────────┐
 *    ▲   (app_credentials_rejected)   │  one request let through       │
 *    │                                └── per probe interval ──────────┘
 *    └──────── a grant succeeds (app_credentials_restored) ────┘
 * ```
 *
 * While rejected, a token request fails fast with {@link AppCredentialsError} without reaching
 * Shopify, except one probe per interval (on the vault's clock); the first grant that succeeds ends
 * the state. Kept in this process's memory: each instance finds out by itself. The methods are the
 * seam for a shared, store-backed version (callers `await` them).
 */

import { AppCredentialsError } from '../errors.ts';
import type { TokenGrantType } from '../protocol/token-failure.ts';
import type { VaultEmitter } from './events.ts';

/** The app-credentials state as `vault.appCredentials()` reports it. Holds no secret. */
export interface AppCredentialsStatus {
  status: 'ok' | 'rejected';
  /** When Shopify refused the credentials (this time); `null` while `ok`. */
  since: Date | null;
  /** The refusal, value-free (`invalid_client (HTTP 401)`); `null` while `ok`. */
  reason: string | null;
  /** The grant that was refused; `null` while `ok`. */
  grant: TokenGrantType | null;
  /** From when one probe request may go to Shopify; `null` while `ok`. */
  nextProbeAt: Date | null;
}

/** What the gate needs: the vault's clock and emitter, and the probe interval. */
export interface AppCredentialsGateOptions {
  now: () => number;
  events: VaultEmitter;
  /** One probe request per this many ms while rejected. */
  probeIntervalMs: number;
}

interface Rejection {
  since: number;
  reason: string;
  grant: TokenGrantType;
  nextProbeAt: number;
}

/** The in-process app-credentials state of one vault. */
export class AppCredentialsGate {
  readonly #now: () => number;
  readonly #events: VaultEmitter;
  readonly #probeIntervalMs: number;
  #rejection: Rejection | null = null;

  constructor(options: AppCredentialsGateOptions) {
    this.#now = options.now;
    this.#events = options.events;
    this.#probeIntervalMs = options.probeIntervalMs;
  }

  /** A snapshot of the state. */
  status(): AppCredentialsStatus {
    const rejection = this.#rejection;
    if (!rejection) return { status: 'ok', since: null, reason: null, grant: null, nextProbeAt: null };
    return {
      status: 'rejected',
      since: new Date(rejection.since),
      reason: rejection.reason,
      grant: rejection.grant,
      nextProbeAt: new Date(rejection.nextProbeAt),
    };
  }

  /** True when a request would be let through now (no state change; see {@link admit}). */
  open(): boolean {
    return this.#rejection === null || this.#now() >= this.#rejection.nextProbeAt;
  }

  /**
   * Called right before a token request. Returns when it may go: always while `ok`; while rejected,
   * once per probe interval (this request is the probe). Otherwise throws {@link AppCredentialsError}.
   */
  admit(): void {
    const rejection = this.#rejection;
    if (!rejection) return;
    const now = this.#now();
    if (now < rejection.nextProbeAt) throw new AppCredentialsError(rejection.reason);
    rejection.nextProbeAt = now + this.#probeIntervalMs;
  }

  /** Shopify accepted the credentials (a grant succeeded): ends a rejection and says so once. */
  accepted(grant: TokenGrantType): void {
    const rejection = this.#rejection;
    if (!rejection) return;
    this.#rejection = null;
    this.#events.emit('app_credentials_restored', { grant, rejectedForMs: Math.max(0, this.#now() - rejection.since) });
  }

  /** Shopify refused the credentials: enters the rejected state, and says so once per entry. */
  rejected(grant: TokenGrantType, reason: string): void {
    if (this.#rejection) return;
    const now = this.#now();
    this.#rejection = { since: now, reason, grant, nextProbeAt: now + this.#probeIntervalMs };
    this.#events.emit('app_credentials_rejected', { grant, reason });
  }
}
