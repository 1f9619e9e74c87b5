/**
 * `openDefaultVault`: the vault an app gets from its configuration — the store `SHOPTOKEN_DATABASE_URL`
 * names (the embedded SQLite by default; PostgreSQL, MySQL, Redis by URL), keys from
 * `SHOPTOKEN_KEYS` / `SHOPTOKEN_KEY_FILE` (a generated key file outside production, announced once),
 * and the app's credentials and Shopify base URL, so expiring tokens refresh and `vault.admin()`
 * reaches the same Shopify the install flow does.
 */

import { ConfigError } from '../errors.ts';
import { openVault, type Vault } from '../open-vault.ts';
import type { CoordinationOptions } from '../vault/coordinate.ts';
import { loadKeys } from '../vault/key-source.ts';
import type { RefreshOptions, ShopifyClientOptions } from '../vault/refresh-options.ts';
import type { TokenCacheOptions } from '../vault/token-cache.ts';
import { type DatabaseLocation, openConfiguredStorage } from './database.ts';
import { isShoptokenConfig, loadConfig, type ShoptokenConfig } from './load.ts';

/** Options of {@link openDefaultVault} beside the configuration. */
export interface DefaultVaultOptions {
  /** The database (the `--database` flag): wins over `SHOPTOKEN_DATABASE_URL`. */
  database?: string | undefined;
  /** The vault's Shopify credentials; by default the configuration's (`SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`, base URL). */
  shopify?: ShopifyClientOptions;
  refresh?: RefreshOptions;
  cache?: TokenCacheOptions;
  coordination?: CoordinationOptions;
  /** The app (client id) the vault's rows belong to in a store shared by several apps; `''` by default. */
  app?: string;
  /** Clock in epoch ms; `Date.now` by default. */
  now?: () => number;
  /** Where notices go (a key file was generated); one line each, to stderr by default. */
  onNotice?: (message: string) => void;
}

/** The shorthand `openDefaultVault({ env, cwd })`: loads the configuration from `env` and `cwd` first. */
export interface DefaultVaultEnvOptions extends DefaultVaultOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** `production` never generates a key; by default production when `NODE_ENV=production`. */
  mode?: 'demo' | 'production';
}

/** An opened vault and where its pieces came from. */
export interface DefaultVault {
  vault: Vault;
  /** The SQLite file, or the database URL without its password. */
  databasePath: string;
  /** Which store, and where. */
  location: DatabaseLocation;
  /** `SHOPTOKEN_KEYS` or the key file's path. */
  keySource: string;
  /** True when a development key file was just created (and announced through `onNotice`). */
  generatedKey: boolean;
}

const stderrNotice = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/**
 * Opens the vault the configuration describes. The Shopify credentials and base URL come from the
 * configuration when it has them (without them the vault stores and reads tokens but cannot
 * refresh). Throws ConfigError for bad keys, a bad database setting, or production without keys.
 *
 * @example
 * const config = loadConfig({ env: process.env, cwd: process.cwd() });
 * const { vault } = await openDefaultVault(config);
 */
export async function openDefaultVault(config: ShoptokenConfig, options?: DefaultVaultOptions): Promise<DefaultVault>;
/**
 * @example
 * const { vault } = await openDefaultVault({ env: process.env, cwd: process.cwd() });
 */
export async function openDefaultVault(options: DefaultVaultEnvOptions): Promise<DefaultVault>;
export async function openDefaultVault(
  first: ShoptokenConfig | DefaultVaultEnvOptions,
  second: DefaultVaultOptions = {},
): Promise<DefaultVault> {
  let config: ShoptokenConfig;
  let options: DefaultVaultOptions;
  let production: boolean;
  if (isShoptokenConfig(first)) {
    config = first;
    options = second;
    production = config.production;
  } else {
    if (typeof first !== 'object' || first === null || typeof first.cwd !== 'string') {
      throw new ConfigError(['openDefaultVault needs a loaded configuration, or { env, cwd }']);
    }
    config = loadConfig({ env: first.env, cwd: first.cwd });
    options = first;
    production = first.mode === undefined ? config.production : first.mode === 'production';
  }
  const keyEnv = { SHOPTOKEN_KEYS: config.keys, SHOPTOKEN_KEY_FILE: config.keyFile };
  const loaded = await loadKeys({ env: keyEnv, cwd: config.cwd, mode: production ? 'production' : 'demo' });
  if (loaded.generated) {
    (options.onNotice ?? stderrNotice)(
      `shoptoken: generated an encryption key file at ${loaded.source} (development only): keep it secret and ` +
        'back it up; production needs SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE',
    );
  }
  const shopify =
    options.shopify ??
    (config.apiKey !== undefined && config.apiSecret !== undefined
      ? { clientId: config.apiKey, secrets: config.apiSecret, baseUrl: config.shopifyBaseUrl }
      : undefined);
  const { storage, location } = await openConfiguredStorage(config, { database: options.database });
  let vault: Vault;
  try {
    vault = openVault({
      storage,
      keys: loaded.keys,
      shopify,
      refresh: options.refresh,
      cache: options.cache,
      coordination: options.coordination,
      ...(options.app === undefined ? {} : { app: options.app }),
      ...(options.now ? { now: options.now } : {}),
      // A vault with neither credentials nor a base URL of its own is connected by createShoptoken.
      ...(shopify || config.sources.shopifyBaseUrl !== 'default'
        ? { shopifyBaseUrl: shopify?.baseUrl ?? config.shopifyBaseUrl }
        : {}),
      ...(config.apiVersion ? { admin: { apiVersion: config.apiVersion } } : {}),
    });
  } catch (error) {
    await storage.close();
    throw error;
  }
  return { vault, databasePath: location.display, location, keySource: loaded.source, generatedKey: loaded.generated };
}
