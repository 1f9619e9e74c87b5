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
  createStoredStateStore,
  type Shoptoken,
  type ShoptokenOptions,
  type StateRecord,
  type StateStore,
} from './auth/index.ts';
export {
  configDatabasePath,
  type DatabaseLocation,
  databaseLocation,
  openConfiguredStorage,
  redactUrl,
  resolveDatabasePath,
} from './config/database.ts';
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
export {
  type ImportProgress,
  type ImportReport,
  type ImportSessionsOptions,
  type ImportSkip,
  type ImportVault,
  importSessions,
} from './import/import-sessions.ts';
export type { SkipReason as ImportSkipReason } from './import/records.ts';
export type { SessionLayout, SourceBackend as ImportSourceBackend } from './import/source.ts';
export { openVault, Vault, type VaultOptions } from './open-vault.ts';
export type { AssociatedUser } from './protocol/tokens.ts';
export { createMemoryStorage } from './storage/memory.ts';
export type { Migration, MigrationReport } from './storage/migrations.ts';
export { type OpenStorageOptions, openNetworkStorage } from './storage/open.ts';
export { openSqliteStorage, type SqliteStorageOptions } from './storage/sqlite.ts';
export type {
  DueCursor,
  DueIndex,
  DueQuery,
  Expected,
  LeaseStore,
  ListQuery,
  StateStorage,
  TokenGrant,
  TokenKey,
  TokenRow,
  TokenStatus,
  TokenStorage,
} from './storage/types.ts';
export type {
  WebhookClaim,
  WebhookKey,
  WebhookListQuery,
  WebhookOutcome,
  WebhookRecord,
  WebhookState,
  WebhookStorage,
} from './storage/webhook-types.ts';
export type { AppCredentialsStatus } from './vault/app-credentials.ts';
export type { CoordinationOptions } from './vault/coordinate.ts';
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
export type { UninstallOutcome } from './vault/shop-lifecycle.ts';
export type { TokenCacheOptions } from './vault/token-cache.ts';
export type {
  AppConnection,
  OfflineToken,
  OfflineTokenInput,
  OnlineToken,
  OnlineTokenInput,
  TokenKind,
  TokenMetadata,
  TokenVault,
} from './vault/types.ts';
export { type ImportCustomTokenOptions, type TokenOptions, VaultCore, type VaultCoreOptions } from './vault/vault.ts';
export type { InboxDelivery, InboxEntry, WebhookInbox } from './vault/webhook-inbox.ts';
export {
  type ComplianceCustomer,
  type ComplianceHandlers,
  type CustomersDataRequestPayload,
  type CustomersRedactPayload,
  createWebhooks,
  type FulfillmentCallbackContext,
  type FulfillmentNotificationPayload,
  type FulfillmentServiceHandlers,
  type FulfillmentServiceInput,
  type FulfillmentServiceResult,
  registerFulfillmentService,
  registerWebhooks,
  type ShopRedactPayload,
  type WebhookContext,
  type WebhookHandler,
  type WebhookRunReport,
  type WebhookSubscriptionInput,
  type WebhookSubscriptionResult,
  type Webhooks,
  type WebhooksOptions,
  type WebhookVault,
} from './webhooks/index.ts';
