/** Shopify's wire formats, pure and shared by the library and the emulator. */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

export { type AuthorizeUrlOptions, authorizeUrl } from './authorize.ts';
export {
  type ClientCredentialsTokenResponse,
  clientCredentialsRequest,
  processClientCredentialsResponse,
  requestClientCredentials,
} from './client-credentials.ts';
export {
  type CallbackRefusal,
  type FulfillmentCallback,
  type FulfillmentNotification,
  type FulfillmentQuery,
  type FulfillmentRequestKind,
  fulfillmentCallbackOf,
  signFulfillmentQuery,
  type VerifyFulfillmentQueryOptions,
  verifyFulfillmentNotification,
  verifyFulfillmentQuery,
} from './fulfillment-callback.ts';
export { type QueryInput, querySignatureMessage, signQuery, verifyHexHmac, verifyQueryHmac } from './hmac.ts';
export {
  migrateToExpiringToken,
  migrationExchangeRequest,
  OFFLINE_ACCESS_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
} from './migration.ts';
export {
  type ExpiringOfflineTokenResponse,
  processRefreshTokenResponse,
  refreshAccessToken,
  refreshTokenRequest,
} from './refresh.ts';
export { compactScopes, coversScopes, expandScopes, formatScopes, missingScopes, parseScopes } from './scopes.ts';
export {
  checkBaseUrlTemplate,
  DEFAULT_SHOPIFY_BASE_URL,
  isShopDomain,
  normalizeShop,
  SHOP_PLACEHOLDER,
  shopBaseUrl,
} from './shop.ts';
export {
  type SignedQueryOptions,
  type SignedQueryResult,
  TIMESTAMP_TOLERANCE_SECONDS,
  verifySignedQuery,
} from './signed-query.ts';
export {
  classifyTokenFailure,
  type TokenFailure,
  type TokenFailureClass,
  type TokenGrantType,
} from './token-failure.ts';
export {
  type AssociatedUser,
  authorizationCodeRequest,
  exchangeAuthorizationCode,
  type OfflineTokenResponse,
  type OnlineTokenResponse,
  parseTokenResponseBody,
  processTokenResponse,
  type TokenEndpoint,
  type TokenResponse,
  tokenUrl,
} from './tokens.ts';
export {
  base64HmacMatches,
  parseTriggeredAt,
  signWebhookBody,
  type TriggeredAt,
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_MAX_BODY_BYTES,
  type WebhookCheck,
  type WebhookDelivery,
  type WebhookHeaderFamily,
  type WebhookRefusal,
  type WebhookRequest,
} from './webhook.ts';
