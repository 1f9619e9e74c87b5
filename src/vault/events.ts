/**
 * The vault's events: a tiny typed emitter. Payloads name shops and reasons, never token values.
 */

/**
 * Why a shop needs to be authorized again. `admin_unauthorized`: the Admin API answered 401 to the
 * shop's offline token even after a refresh (see `Vault.markNeedsReauth`).
 */
export type NeedsReauthReason =
  | 'invalid_grant'
  | 'invalid_client'
  | 'refresh_token_expired'
  | 'admin_unauthorized'
  | 'migration_failed';

/** Emitted once when a shop's offline token can no longer be refreshed (the merchant must open the app again). */
export interface NeedsReauthEvent {
  shop: string;
  reason: NeedsReauthReason;
}

/** Event names and their payloads. */
export interface VaultEvents {
  needs_reauth: NeedsReauthEvent;
}

/** A listener; what it returns (a promise, say) is not awaited. */
export type VaultListener<E extends keyof VaultEvents> = (event: VaultEvents[E]) => unknown;

/**
 * Listeners by event. A listener that throws (or rejects) stops neither the other listeners nor the
 * vault: its error is reported with `process.emitWarning`.
 */
export class VaultEmitter {
  readonly #listeners: { [E in keyof VaultEvents]: Set<VaultListener<E>> } = { needs_reauth: new Set() };

  /**
   * Adds a listener; returns the function that removes it.
   *
   * @example
   * const off = emitter.on('needs_reauth', ({ shop, reason }) => mailMerchant(shop, reason));
   */
  on<E extends keyof VaultEvents>(event: E, listener: VaultListener<E>): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const listeners = this.#listeners[event] as Set<VaultListener<E>> | undefined;
    if (!listeners) throw new TypeError(`unknown vault event: ${String(event)}`);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Calls every listener of `event` with a frozen copy of `payload`. */
  emit<E extends keyof VaultEvents>(event: E, payload: VaultEvents[E]): void {
    const frozen = Object.freeze({ ...payload });
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
