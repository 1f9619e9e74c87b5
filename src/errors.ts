/**
 * shoptoken's error hierarchy. Every error carries a stable `code` that callers can `switch` on.
 * Messages never contain tokens, refresh tokens, secrets, HMACs or cookie values.
 */

export type ErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_INVALID_SHOP'
  | 'ERR_INVALID_HMAC'
  | 'ERR_STALE_TIMESTAMP'
  | 'ERR_INVALID_STATE'
  | 'ERR_INSUFFICIENT_SCOPES'
  | 'ERR_OAUTH_RESPONSE'
  | 'ERR_UNEXPECTED_RESPONSE'
  | 'ERR_TRANSPORT'
  | 'ERR_DECRYPT'
  | 'ERR_STORAGE'
  /** The shop's offline token cannot be refreshed (revoked, lapsed, or none stored): the merchant must open the app again. */
  | 'ERR_NEEDS_REAUTH'
  /** Shopify rejected a token handed to the vault (a custom app's token that fails verification); nothing was stored. */
  | 'ERR_TOKEN_REJECTED'
  /** A webhook handler ran longer than `handlerTimeoutMs`: its signal was aborted and the run counts as failed. */
  | 'ERR_TIMEOUT'
  /**
   * Shopify refused the APP's credentials (`invalid_client`: a wrong, rotated or revoked client secret or id).
   * No shop is at fault and none is marked; every shop fails until the credentials work again.
   */
  | 'ERR_APP_CREDENTIALS'
  /**
   * Shopify answered a shop's token request in a way it does not document (a 404, an unknown 4xx):
   * the vault holds further requests for that shop for a while (5 minutes, doubling to 1 hour).
   * Retryable; the shop is not marked.
   */
  | 'ERR_REFRESH_DEFERRED';

/** Base class of every error shoptoken throws on purpose. */
export class ShoptokenError extends Error {
  readonly code: ErrorCode;
  /** True when repeating the same operation later may succeed. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShoptokenError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** Bad or missing configuration, reported when an object is built, never on a request. */
export class ConfigError extends ShoptokenError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A request from the network failed a check (shop, HMAC, timestamp, state, scopes). Maps to a 4xx. */
export class RequestValidationError extends ShoptokenError {
  readonly status: number;

  constructor(code: ErrorCode, message: string, status = 400) {
    super(code, message);
    this.name = 'RequestValidationError';
    this.status = status;
  }
}

/** Shopify answered a token request with an OAuth error (`{"error": …}`). */
export class OAuthResponseError extends ShoptokenError {
  readonly status: number;
  readonly error: string;
  readonly errorDescription: string | undefined;

  constructor(status: number, error: string, errorDescription: string | undefined) {
    super(
      'ERR_OAUTH_RESPONSE',
      `Shopify refused the token request (HTTP ${status}, ${error}${errorDescription ? `: ${errorDescription}` : ''})`,
      { retryable: status === 429 || status >= 500 },
    );
    this.name = 'OAuthResponseError';
    this.status = status;
    this.error = error;
    this.errorDescription = errorDescription;
  }
}

/** Shopify answered with something that is not the documented shape. */
export class UnexpectedResponseError extends ShoptokenError {
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('ERR_UNEXPECTED_RESPONSE', message, {
      cause: options?.cause,
      retryable: options?.retryable ?? (status === 429 || status >= 500),
    });
    this.name = 'UnexpectedResponseError';
    this.status = status;
  }
}

/** The request never got an HTTP answer (DNS, reset, timeout). */
export class TransportError extends ShoptokenError {
  constructor(message: string, cause: unknown) {
    super('ERR_TRANSPORT', message, { cause, retryable: true });
    this.name = 'TransportError';
  }
}

/**
 * Shopify refused the APP's client id or secret (`invalid_client`), or did so recently and the vault
 * holds token requests until a probe gets through. No shop is at fault and none is marked; tokens
 * still valid keep being served. Retryable: it clears by itself once Shopify accepts the credentials.
 */
export class AppCredentialsError extends ShoptokenError {
  /** The refusal, value-free: `invalid_client (HTTP 401)`. */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(
      'ERR_APP_CREDENTIALS',
      `Shopify refused the app's client id/secret (${reason}): check SHOPIFY_API_KEY and SHOPIFY_API_SECRET ` +
        '(the shopify.clientId and clientSecret options). No shop was marked; token requests resume by ' +
        'themselves once Shopify accepts the credentials again.',
      { cause: options?.cause, retryable: true },
    );
    this.name = 'AppCredentialsError';
    this.reason = reason;
  }
}

/**
 * Shopify answered a shop's token request in a way it does not document (see `ERR_REFRESH_DEFERRED`);
 * no request for that shop is sent before `retryAt`. Retryable; the shop is not marked.
 */
export class RefreshDeferredError extends ShoptokenError {
  readonly shop: string;
  /** The refusal, value-free: `HTTP 404`, `invalid_scope (HTTP 400)`. */
  readonly reason: string;
  readonly retryAt: Date;

  constructor(shop: string, reason: string, retryAt: Date, options?: { cause?: unknown }) {
    super(
      'ERR_REFRESH_DEFERRED',
      `Shopify answered the token request of ${shop} in an undocumented way (${reason}); ` +
        `no new request for this shop before ${retryAt.toISOString()}`,
      { cause: options?.cause, retryable: true },
    );
    this.name = 'RefreshDeferredError';
    this.shop = shop;
    this.reason = reason;
    this.retryAt = retryAt;
  }
}
