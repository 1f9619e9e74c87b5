/**
 * The token-aware Admin API: {@link createAdmin} (clients that always carry a current token, retry
 * once after a 401 and wait out throttling) and {@link createUserCache} (responses cached per user).
 */

export {
  type AdminFactory,
  type AdminOptions,
  type AdminRequestOptions,
  type AdminVault,
  createAdmin,
  type TokenAwareAdminClient,
  UserReauthError,
} from './admin.ts';
export { type AdminClientOptions, adminClient, DEFAULT_API_VERSION } from './client.ts';
export {
  type AdminGraphQLError,
  type AdminQueryCost,
  type AdminResult,
  type AdminThrottleStatus,
  MIN_THROTTLE_WAIT_MS,
  processAdminResponse,
  throttleWaitMs,
} from './response.ts';
export { createUserCache, type UserCache, type UserCacheKey, type UserCacheOptions } from './user-cache.ts';
