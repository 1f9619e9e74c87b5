/**
 * The emulator's public shapes. Other parts of shoptoken (tests, the demo) code against these, so
 * they change only together with their users.
 */

import type { EmulatorClock } from './clock.ts';
import type { EmulatorFaults } from './faults.ts';
import type { RequestLogEntry } from './request-log.ts';

/** An app registered with the emulator, as in the Partner Dashboard / `shopify.app.toml`. */
export interface EmulatorAppConfig {
  clientId: string;
  clientSecret: string;
  /** Allowed `redirect_uri` values, matched by exact string equality. */
  redirectUrls: string[];
  /** Shown on the consent page; default the client id. */
  name?: string;
  /**
   * The scopes of the app's active version (`shopify.app.toml` `[access_scopes] scopes`): granted
   * by an authorize request without `scope` (Shopify-managed scopes, reference §1.2) and by an
   * install without the OAuth pages (`installedApps`, {@link Emulator.install}). Default none.
   */
  scopes?: string[];
}

/** A staff user to seed into a shop. */
export interface EmulatorUserSeed {
  /** Numeric string; generated when absent. */
  id?: string;
  firstName: string;
  lastName: string;
  email: string;
  accountOwner?: boolean;
  /** the user's permissions, as scope handles; ['*'] = everything */
  permissions: string[];
  locale?: string;
  collaborator?: boolean;
}

/** A shop to seed; shops that are not seeded are created on demand with default staff. */
export interface EmulatorShopSeed {
  domain: string;
  name?: string;
  email?: string;
  users?: EmulatorUserSeed[];
  /**
   * Client ids of apps created by the shop's own organization: only these may use the
   * client-credentials grant on this shop (reference §4), and only while installed on it.
   */
  organizationClientIds?: string[];
  /**
   * Client ids of registered apps installed on the shop from the start, with the app's configured
   * `scopes` (as Shopify-managed installation does, without the OAuth pages). No token is issued.
   */
  installedApps?: string[];
}

/** The Admin API's leaky bucket, per app and shop. */
export interface EmulatorThrottle {
  /** Bucket size in cost points; default 2000. */
  maximumAvailable: number;
  /** Points restored per second; default 100. */
  restoreRate: number;
}

/** Options of {@link createEmulator}, checked when it is built. */
export interface EmulatorOptions {
  apps: EmulatorAppConfig[];
  shops?: EmulatorShopSeed[];
  /** ms since epoch; default Date.now */
  now?: () => number;
  /** default 60 */
  codeTtlSeconds?: number;
  /** The Admin API's rate limit; default `{ maximumAvailable: 2000, restoreRate: 100 }`. */
  throttle?: EmulatorThrottle;
}

/** A staff user of an emulated shop. */
export interface EmulatorUser {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  accountOwner: boolean;
  permissions: string[];
  locale: string;
  collaborator: boolean;
}

/** A snapshot of one emulated shop. */
export interface EmulatorShopView {
  domain: string;
  name: string;
  email: string;
  users: EmulatorUser[];
  /** scopes granted to each installed app, by clientId */
  installations: Record<string, string[]>;
}

/** One request to the token endpoint, successful or not. Never holds a token value. */
export interface GrantRecord {
  /** ms since epoch, from the emulator's clock. */
  at: number;
  shop: string;
  clientId: string;
  /** `authorization_code`, or the `grant_type` that was sent. */
  grantType: string;
  accessMode: 'offline' | 'online' | null;
  expiring: boolean;
  userId: string | null;
  /** The HTTP status answered. */
  status: number;
}

/** A local Shopify: OAuth install, the token endpoint and a minimal Admin API. */
export interface Emulator {
  /** Serve one request in-process (no network). */
  fetch(request: Request): Promise<Response>;
  /** Listen on host (default 127.0.0.1) and port (default 0 = any). */
  listen(options?: { port?: number; host?: string }): Promise<{ origin: string; close(): Promise<void> }>;
  /** The base-URL template to give shoptoken: `${origin}/{shop}` (literal `{shop}`). */
  baseUrl(origin: string): string;
  /** Every token grant served (successful or not), oldest first. */
  grants(): GrantRecord[];
  /** A shop's state (created on demand with the default users if unknown); undefined if domain invalid. */
  shop(domain: string): EmulatorShopView | undefined;
  /**
   * Installs an app on a shop without the OAuth pages, with `scopes` (default the app's configured
   * `scopes`), added to what it already has, as a consent does. No token is issued; an existing
   * non-expiring offline token takes the new scopes at its next authorization-code exchange.
   * Throws a ConfigError listing every problem (invalid shop, unknown app, bad scope handles).
   *
   * @example
   * emulator.setOrganizationApp('own-store.myshopify.com', 'client-id');
   * emulator.install('own-store.myshopify.com', 'client-id', ['read_products']);
   * // client credentials now work there, with scope 'read_products'
   */
  install(shop: string, clientId: string, scopes?: string[]): void;
  /**
   * Uninstalls an app from a shop, as `app/uninstalled`: revokes its codes, access tokens (offline,
   * online, client credentials) and refresh tokens (Admin API then answers 401; refresh answers
   * the dead-token `401 invalid_request`). Throws a ConfigError for an invalid shop or unknown app.
   */
  uninstall(shop: string, clientId: string): void;
  /**
   * The emulator's time. Movable (`advance`, `set`) when the emulator owns it; when `options.now`
   * was given, the caller owns time and `advance`/`set` throw.
   */
  readonly clock: EmulatorClock;
  /** Fault injection on the token, GraphQL, authorize and access-scopes endpoints. */
  readonly faults: EmulatorFaults;
  /** Requests to the emulated Shopify endpoints (not `/_emulator/*`), in the order they were answered. */
  requests(): RequestLogEntry[];
  /**
   * Retires every refresh token of the app on the shop, as a revoked grant: refresh then answers
   * Shopify's dead-token `401 invalid_request`. Access tokens live until they expire. Throws a ConfigError for an invalid
   * shop or an unknown app.
   */
  revokeRefreshTokens(shop: string, clientId: string): void;
  /**
   * Marks the app as created by the shop's own organization, so it may use client credentials
   * there once installed ({@link Emulator.install}). Throws a ConfigError for an invalid shop or an
   * unknown app.
   */
  setOrganizationApp(shop: string, clientId: string): void;
}
