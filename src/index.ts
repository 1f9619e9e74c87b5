/**
 * shoptoken — the token layer for Shopify apps.
 *
 * @example
 * import { createShoptoken, openDefaultVault } from 'shoptoken';
 * const { vault } = await openDefaultVault({ env: process.env, cwd: process.cwd() });
 * const shoptoken = createShoptoken({ apiKey, apiSecret, scopes: 'write_products', appUrl, vault,
 *   afterAuth: ({ shop, offline, online, user }) => {} });
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import './node-guard.ts';

export {
  type AdminClientOptions,
  type AdminFactory,
  type AdminOptions,
  type AdminResult,
  adminClient,
  createAdmin,
  createUserCache,
  DEFAULT_API_VERSION,
  type TokenAwareAdminClient,
  type UserCache,
  UserReauthError,
} from './admin/index.ts';
export {
  type AfterAuthContext,
  type AfterLoginContext,
  type AppSession,
  createMemoryStateStore,
  createShoptoken,
  type Shoptoken,
  type ShoptokenOptions,
  type StateRecord,
  type StateStore,
} from './auth/index.ts';
export { configDatabasePath, resolveDatabasePath } from './config/database.ts';
export {
  type DefaultVault,
  type DefaultVaultEnvOptions,
  type DefaultVaultOptions,
  openDefaultVault,
} from './config/default-vault.ts';
export {
  type ConfigSetting,
  isShoptokenConfig,
  type LoadConfigOptions,
  loadConfig,
  missingSettings,
  type ShoptokenConfig,
} from './config/load.ts';
export {
  AppCredentialsError,
  ConfigError,
  type ErrorCode,
  OAuthResponseError,
  RefreshDeferredError,
  RequestValidationError,
  ShoptokenError,
  TransportError,
  UnexpectedResponseError,
} from './errors.ts';
export type { AssociatedUser } from './protocol/tokens.ts';
export { createMemoryStorage } from './storage/memory.ts';
export { openSqliteStorage } from './storage/sqlite.ts';
export type { TokenRow, TokenStorage } from './storage/types.ts';
export type { AppCredentialsStatus } from './vault/app-credentials.ts';
export type {
  AppCredentialsRejectedEvent,
  AppCredentialsRestoredEvent,
  NeedsReauthEvent,
  NeedsReauthReason,
  VaultEvents,
} from './vault/events.ts';
export { createKeeper, type Keeper, type KeeperOptions, type KeeperReport } from './vault/keeper.ts';
export { loadKeys } from './vault/key-source.ts';
export { type Key, KeyRing, parseKeyList } from './vault/keyring.ts';
export type { MigrationPlanEntry, MigrationResult, MigrationState, MigrationStatus } from './vault/migrator.ts';
export type { RefreshOptions, ShopifyClientOptions } from './vault/refresh-options.ts';
export type { TokenCacheOptions } from './vault/token-cache.ts';
export type {
  OfflineToken,
  OfflineTokenInput,
  OnlineToken,
  OnlineTokenInput,
  TokenKind,
  TokenMetadata,
  TokenVault,
} from './vault/types.ts';
export {
  type ImportCustomTokenOptions,
  openVault,
  type TokenOptions,
  Vault,
  type VaultOptions,
} from './vault/vault.ts';
