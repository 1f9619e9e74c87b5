/**
 * The vault's events: a tiny typed emitter. Payloads name shops and reasons, never token values.
 */

import type { TokenGrantType } from '../protocol/token-failure.ts';

/**
 * Why a shop needs to be authorized again (value-free, stored as the row's `lastRefreshError`):
 * - `refresh_token_revoked`: Shopify answered the refresh `401 invalid_request` "This request
 *   requires an active refresh_token" — rotated away, revoked by an uninstall, or lapsed — for the
 *   stored refresh token and for the previous one;
 * - `invalid_grant`: Shopify refused the refresh token with `invalid_grant`;
 * - `shop_not_permitted`: Shopify refused to renew the shop's client-credentials token;
 * - `invalid_subject_token`: a migration exchange was refused, so the non-expiring token is dead;
 * - `refresh_token_expired`: the refresh token lapsed (90 days unused) before it was used;
 * - `admin_unauthorized`: the Admin API answered 401 to the shop's offline token even after a
 *   refresh (see `Vault.markNeedsReauth`).
 *
 * Shopify refusing the APP's credentials (`invalid_client`) is never a reason: no shop is marked for
 * it (see the `app_credentials_rejected` event).
 */
export type NeedsReauthReason =
  | 'refresh_token_revoked'
  | 'invalid_grant'
  | 'shop_not_permitted'
  | 'invalid_subject_token'
  | 'refresh_token_expired'
  | 'admin_unauthorized'
  /** The stored token was sealed with an encryption key no longer configured (retired too early). */
  | 'key_retired';

/** Emitted once when a shop's offline token can no longer be refreshed (the merchant must open the app again). */
export interface NeedsReauthEvent {
  shop: string;
  reason: NeedsReauthReason;
}

/**
 * Emitted once when Shopify refuses the app's credentials (`invalid_client`) and the vault starts
 * holding token requests; not again until they have been accepted (`app_credentials_restored`).
 */
export interface AppCredentialsRejectedEvent {
  /** The grant that was refused. */
  grant: TokenGrantType;
  /** Value-free: `invalid_client (HTTP 401)`. */
  reason: string;
}

/** Emitted once when a token request succeeds again after `app_credentials_rejected`. */
export interface AppCredentialsRestoredEvent {
  /** The grant that succeeded. */
  grant: TokenGrantType;
  /** How long the credentials were refused, ms on the vault's clock. */
  rejectedForMs: number;
}

/** Event names and their payloads. */
export interface VaultEvents {
  needs_reauth: NeedsReauthEvent;
  app_credentials_rejected: AppCredentialsRejectedEvent;
  app_credentials_restored: AppCredentialsRestoredEvent;
}

/** A listener; what it returns (a promise, say) is not awaited. */
export type VaultListener<E extends keyof VaultEvents> = (event: VaultEvents[E]) => unknown;

/**
 * Listeners by event. A listener that throws (or rejects) stops neither the other listeners nor the
 * vault: its error is reported with `process.emitWarning`.
 */
export class VaultEmitter {
  readonly #listeners: { [E in keyof VaultEvents]: Set<VaultListener<E>> } = {
    needs_reauth: new Set(),
    app_credentials_rejected: new Set(),
    app_credentials_restored: new Set(),
  };

  /**
   * Adds a listener; returns the function that removes it.
   *
   * @example
   * const off = emitter.on('needs_reauth', ({ shop, reason }) => mailMerchant(shop, reason));
   */
  on<E extends keyof VaultEvents>(event: E, listener: VaultListener<E>): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const listeners = Object.hasOwn(this.#listeners, event)
      ? (this.#listeners[event] as Set<VaultListener<E>>)
      : undefined;
    if (!listeners) throw new TypeError(`unknown vault event: ${String(event)}`);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Calls every listener of `event` with a frozen copy of `payload`. */
  emit<E extends keyof VaultEvents>(event: E, payload: VaultEvents[E]): void {
    const frozen = Object.freeze(Object.assign({}, payload)) as VaultEvents[E];
    for (const listener of [...(this.#listeners[event] as Set<VaultListener<E>>)]) {
      try {
        const result = listener(frozen);
        if (result instanceof Promise) result.catch((error: unknown) => report(event, error));
      } catch (error) {
        report(event, error);
      }
    }
  }
}

function report(event: string, error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), {
    type: 'ShoptokenWarning',
    detail: `a "${event}" listener of the vault failed`,
  });
}
