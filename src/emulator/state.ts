/**
 * Everything the emulator remembers, in memory: shops, authorization codes, issued tokens (by
 * SHA-256 digest, never by value), admin sessions, the grant log, webhook subscriptions and
 * deliveries, fulfillment services and orders.
 */

import { randomBytes } from 'node:crypto';
import { compactScopes, parseScopes } from '../protocol/scopes.ts';
import { digest, ExpiringGrants, type IssuedPair } from './expiring-grants.ts';
import { FulfillmentStore } from './fulfillment-store.ts';
import type { CheckedApp, CheckedOptions } from './options.ts';
import { type OutboundRequest, type OutboundResult, sendToApp } from './outbound.ts';
import { buildShop, createIdSource, type IdSource, type ShopState } from './shops.ts';
import { Throttle } from './throttle.ts';
import type { GrantRecord } from './types.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookSubscriptions } from './webhook-subscriptions.ts';

export type AccessMode = 'offline' | 'online';

/** What an authorization code remembers until it is exchanged. */
export interface CodeRecord {
  shop: string;
  clientId: string;
  accessMode: AccessMode;
  userId: string;
  /** The scopes asked for in the authorize request. */
  scopes: string[];
  expiresAt: number;
}

/** An issued access token. */
export interface TokenRecord {
  shop: string;
  clientId: string;
  kind: AccessMode;
  /** Scopes granted to the app (compact). */
  scopes: string[];
  /** What the token may use: `scopes` offline, the user's share of them online (compact). */
  effectiveScopes: string[];
  userId: string | null;
  /** ms since epoch; `null` never expires. */
  expiresAt: number | null;
}

const ACCESS_TOKEN_PREFIX = 'shpat_';
/** Lifetime of online and client-credentials tokens, in seconds. */
export const DAY_TOKEN_TTL_SECONDS = 86_399;

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');
const slotKey = (shop: string, clientId: string) => `${shop} ${clientId}`;

/** The emulator's memory. Domains passed in must already be canonical. */
export class EmulatorState {
  readonly apps: ReadonlyMap<string, CheckedApp>;
  readonly now: () => number;
  readonly codeTtlSeconds: number;
  readonly #shops = new Map<string, ShopState>();
  readonly #nextUserId: IdSource;
  readonly #codes = new Map<string, CodeRecord>();
  readonly #tokens = new Map<string, TokenRecord>();
  /** The non-expiring offline token of each app and shop (its installation's token), by value to hand it out again. */
  readonly #nonExpiring = new Map<string, string>();
  readonly #sessions = new Map<string, { shop: string; userId: string }>();
  readonly #grants: GrantRecord[] = [];
  /** Refresh tokens and migrations of expiring offline grants. */
  readonly expiring: ExpiringGrants;
  /** The Admin API's buckets. */
  readonly throttle: Throttle;
  /** Webhook subscriptions, configured and created through the Admin API. */
  readonly subscriptions: WebhookSubscriptions;
  /** Webhook deliveries and their retries. */
  readonly webhooks: WebhookDispatcher;
  /** Fulfillment services and their fulfillment orders. */
  readonly fulfillment = new FulfillmentStore();
  /** Sends a request to an app (webhooks, fulfillment callbacks) with `appFetch` and `appTimeoutMs`. */
  readonly sendToApp: (request: OutboundRequest) => Promise<OutboundResult>;

  constructor(options: CheckedOptions, now: () => number) {
    this.apps = new Map(options.apps.map((app) => [app.clientId, app]));
    this.now = now;
    this.throttle = new Throttle(options.throttle, now);
    this.subscriptions = new WebhookSubscriptions(this.apps, now);
    this.sendToApp = (request) => sendToApp(options.appFetch, request, options.appTimeoutMs);
    const secretOf = (clientId: string) => this.apps.get(clientId)!.clientSecret;
    this.webhooks = new WebhookDispatcher({ now, secretOf, send: this.sendToApp });
    this.expiring = new ExpiringGrants(now, {
      issue: (shop, clientId, scopes, expiresAt) => this.#issueAccess(shop, clientId, scopes, expiresAt),
      extend: (accessToken, expiresAt) => {
        const record = this.#tokens.get(digest(accessToken));
        if (record) record.expiresAt = expiresAt;
      },
    });
    this.codeTtlSeconds = options.codeTtlSeconds;
    const seededIds = new Set(options.shops.flatMap((shop) => (shop.users ?? []).flatMap((u) => (u.id ? [u.id] : []))));
    this.#nextUserId = createIdSource(seededIds);
    for (const seed of options.shops) {
      const shop = buildShop(seed, this.#nextUserId, this.#shops.size);
      this.#shops.set(seed.domain, shop);
      for (const clientId of seed.installedApps ?? []) this.install(shop, clientId, this.apps.get(clientId)!.scopes);
    }
  }

  /** The shop, created on demand with the default staff. */
  shop(domain: string): ShopState {
    let shop = this.#shops.get(domain);
    if (!shop) {
      shop = buildShop({ domain }, this.#nextUserId, this.#shops.size);
      this.#shops.set(domain, shop);
    }
    return shop;
  }

  /** Adds `scopes` to the app's installation (a union with what it had); returns the installation's scopes. */
  install(shop: ShopState, clientId: string, scopes: readonly string[]): string[] {
    const previous = shop.installations.get(clientId) ?? [];
    const granted = compactScopes(parseScopes([...previous, ...scopes]));
    shop.installations.set(clientId, granted);
    return [...granted];
  }

  /** Removes the app from the shop and revokes its codes and tokens. */
  uninstall(domain: string, clientId: string): void {
    this.#shops.get(domain)?.installations.delete(clientId);
    for (const [code, record] of this.#codes) {
      if (record.shop === domain && record.clientId === clientId) this.#codes.delete(code);
    }
    for (const [key, record] of this.#tokens) {
      if (record.shop === domain && record.clientId === clientId) this.#tokens.delete(key);
    }
    this.#nonExpiring.delete(slotKey(domain, clientId));
    this.expiring.revoke(domain, clientId);
  }

  issueCode(record: Omit<CodeRecord, 'expiresAt'>): string {
    const code = randomHex(16);
    this.#codes.set(code, { ...record, expiresAt: this.now() + this.codeTtlSeconds * 1000 });
    return code;
  }

  /** Removes and returns the code's record: a code is single-use even when the exchange then fails. */
  takeCode(code: string): CodeRecord | undefined {
    const record = this.#codes.get(code);
    this.#codes.delete(code);
    return record;
  }

  /**
   * Issues an offline token. An expiring one starts a new grant (retiring the older refresh
   * tokens). A non-expiring one is the installation's: "Getting offline tokens for the same shop
   * and installation returns the same access token each time" (reference §3.1), so while it is
   * live it is handed out again, carrying `scopes` from now on when they changed; after an
   * uninstall or a migration revoked it, a new one is issued.
   */
  issueOffline(
    shop: string,
    clientId: string,
    scopes: string[],
    expiring: boolean,
  ): { accessToken: string; refreshToken: string | null } {
    if (expiring) return this.expiring.start(shop, clientId, scopes);
    const key = slotKey(shop, clientId);
    const previous = this.#nonExpiring.get(key);
    const record = previous === undefined ? undefined : this.#tokens.get(digest(previous));
    if (previous !== undefined && record) {
      record.scopes = [...scopes];
      record.effectiveScopes = [...scopes];
      return { accessToken: previous, refreshToken: null };
    }
    const accessToken = this.#issueAccess(shop, clientId, [...scopes], null);
    this.#nonExpiring.set(key, accessToken);
    return { accessToken, refreshToken: null };
  }

  /** A client-credentials token: 86399 s, no refresh token (reference §4). */
  issueClientCredentials(shop: string, clientId: string, scopes: string[]): string {
    return this.#issueAccess(shop, clientId, scopes, this.now() + DAY_TOKEN_TTL_SECONDS * 1000);
  }

  /**
   * Migrates a non-expiring offline token to an expiring pair (reference §3.3), or answers the
   * same pair again on a retry within 7 days. `undefined`: not a live non-expiring token of this
   * app and shop (unknown, revoked, already migrated long ago, or another kind).
   */
  migrate(shop: string, clientId: string, subjectToken: string): IssuedPair | undefined {
    const subject = digest(subjectToken);
    const retry = this.expiring.migrationRetry(shop, clientId, subject);
    if (retry) return retry;
    const record = this.#tokens.get(subject);
    if (!record || record.shop !== shop || record.clientId !== clientId) return undefined;
    if (record.kind !== 'offline' || record.expiresAt !== null) return undefined;
    // "The original non-expiring token will be revoked upon successful exchange."
    this.#tokens.delete(subject);
    this.#nonExpiring.delete(slotKey(shop, clientId));
    return this.expiring.migrate(shop, clientId, record.scopes, subject);
  }

  #issueAccess(shop: string, clientId: string, scopes: string[], expiresAt: number | null): string {
    const accessToken = `${ACCESS_TOKEN_PREFIX}${randomHex(16)}`;
    this.#tokens.set(digest(accessToken), {
      shop,
      clientId,
      kind: 'offline',
      scopes,
      effectiveScopes: scopes,
      userId: null,
      expiresAt,
    });
    return accessToken;
  }

  issueOnline(shop: string, clientId: string, scopes: string[], userScopes: string[], userId: string): string {
    const accessToken = `${ACCESS_TOKEN_PREFIX}${randomHex(16)}`;
    this.#tokens.set(digest(accessToken), {
      shop,
      clientId,
      kind: 'online',
      scopes,
      effectiveScopes: userScopes,
      userId,
      expiresAt: this.now() + DAY_TOKEN_TTL_SECONDS * 1000,
    });
    return accessToken;
  }

  /** The live record of an access token, or `undefined` when unknown, revoked or expired. */
  token(value: string): TokenRecord | undefined {
    const record = this.#tokens.get(digest(value));
    if (!record || (record.expiresAt !== null && record.expiresAt <= this.now())) return undefined;
    return record;
  }

  /** Signs `userId` in to the shop's admin; returns the new session id (the cookie value). */
  signIn(shop: string, userId: string, previous: string | undefined): string {
    if (previous) this.#sessions.delete(previous);
    const id = randomHex(24);
    this.#sessions.set(id, { shop, userId });
    return id;
  }

  /** The user signed in to `shop` by session `id`, if any. */
  session(id: string | undefined, shop: string): string | undefined {
    const session = id ? this.#sessions.get(id) : undefined;
    return session?.shop === shop ? session.userId : undefined;
  }

  signOut(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }

  recordGrant(grant: Omit<GrantRecord, 'at'>): void {
    this.#grants.push({ at: this.now(), ...grant });
  }

  grants(): GrantRecord[] {
    return this.#grants.map((grant) => ({ ...grant }));
  }
}
