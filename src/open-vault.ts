/**
 * The vault as apps get it: the token vault (src/vault/) plus its Admin API clients (src/admin/).
 * Composed here, above both, so the vault never imports the Admin client — the client depends on
 * the vault through its `AdminVault` seam, and only this module knows both.
 */

import { type AdminFactory, type AdminOptions, createAdmin, type TokenAwareAdminClient } from './admin/admin.ts';
import { VaultCore, type VaultCoreOptions } from './vault/vault.ts';

/** How to open a vault. */
export interface VaultOptions extends Omit<VaultCoreOptions, 'admin'> {
  /** Options of the Admin API clients {@link Vault.admin} hands out (base URL, clock and fetch default to the vault's). */
  admin?: AdminOptions;
}

/**
 * The {@link VaultCore} with the token-aware Admin API client.
 *
 * @example
 * const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
 * const { data } = await vault.admin('cool-shop.myshopify.com').request('{ shop { name } }');
 */
export class Vault extends VaultCore {
  readonly #adminOptions: AdminOptions;
  #admin: { factory: AdminFactory; baseUrl: string; fetch: typeof fetch | undefined } | undefined;

  constructor(options: VaultOptions) {
    super(options);
    this.#adminOptions = options.admin ?? {};
  }

  /**
   * An Admin GraphQL client that always carries a current token: the shop's (offline, refreshed as
   * needed) or, with `userId`, that staff user's online token — on the vault's Shopify (its
   * `shopifyBaseUrl`: never another). On a 401 it refreshes and retries once, then marks the shop
   * `needs_reauth`; it waits out `THROTTLED` (see `createAdmin`).
   *
   * @example
   * const { data } = await vault.admin('cool-shop.myshopify.com').request('{ shop { name } }');
   */
  admin(shop: string, options?: { userId?: string }): TokenAwareAdminClient {
    // The base URL and fetch can change once, when an install flow connects this vault (connectApp).
    const { baseUrl, fetch } = this.shopify;
    if (this.#admin?.baseUrl !== baseUrl || this.#admin.fetch !== fetch) {
      const adminFetch = this.#adminOptions.fetch ?? fetch;
      const factory = createAdmin(this, {
        now: this.now,
        ...this.#adminOptions,
        shopifyBaseUrl: baseUrl,
        ...(adminFetch ? { fetch: adminFetch } : {}),
      });
      this.#admin = { factory, baseUrl, fetch };
    }
    return this.#admin.factory(shop, options);
  }
}

/**
 * Opens a vault over `storage` with `keys` (current first). Throws ConfigError on bad options.
 *
 * @example
 * const vault = openVault({ storage: await openSqliteStorage('.shoptoken/shoptoken.db'), keys: parseKeyList(env.SHOPTOKEN_KEYS!) });
 */
export function openVault(options: VaultOptions): Vault {
  return new Vault(options);
}
