/**
 * The token vault: validates what the auth flow hands it, seals every token value (and the user
 * record) with the key ring, and writes rows through a {@link TokenStorage}. App code gets access
 * tokens and metadata back; refresh tokens never leave the vault.
 */

import { timingSafeEqual } from 'node:crypto';
import { type AdminFactory, type AdminOptions, createAdmin, type TokenAwareAdminClient } from '../admin/admin.ts';
import { ConfigError } from '../errors.ts';
import { formatScopes, parseScopes } from '../protocol/scopes.ts';
import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL, isShopDomain } from '../protocol/shop.ts';
import type { AssociatedUser } from '../protocol/tokens.ts';
import type { TokenRow, TokenStorage } from '../storage/types.ts';
import { AppCredentialsGate, type AppCredentialsStatus } from './app-credentials.ts';
import { ClientCredentials, credentialsDue } from './client-credentials.ts';
import { verifyCustomToken } from './custom-token.ts';
import { type NeedsReauthReason, VaultEmitter, type VaultEvents, type VaultListener } from './events.ts';
import { createKeeper, type Keeper, type KeeperOptions } from './keeper.ts';
import { type Key, KeyRing, type TokenField, tokenAad } from './keyring.ts';
import { type MigrationPlanEntry, type MigrationResult, Migrator, migrationState } from './migrator.ts';
import {
  checkRefreshOptions,
  checkShopifyOptions,
  isDuration,
  type RefreshOptions,
  type ShopifyClient,
  type ShopifyClientOptions,
} from './refresh-options.ts';
import { isFresh, needsReauthError, Refresher, type RefresherContext } from './refresher.ts';
import { markNeedsReauth as markRowNeedsReauth } from './row-marks.ts';
import { ShopHolds } from './shop-hold.ts';
import { TokenCache, type TokenCacheOptions } from './token-cache.ts';
import { offlineToken, rowMetadata, withAccessToken } from './token-view.ts';
import type {
  AppConnection,
  OfflineToken,
  OfflineTokenInput,
  OnlineToken,
  OnlineTokenInput,
  TokenGrant,
  TokenKind,
  TokenMetadata,
  TokenVault,
} from './types.ts';

/** How to open a vault. */
export interface VaultOptions {
  /** Where sealed rows live. */
  storage: TokenStorage;
  /** A key ring, or keys (current first). */
  keys: KeyRing | readonly Key[];
  /** Clock in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
  /** The app's credentials, needed to refresh expiring offline tokens ({@link Vault.token}). */
  shopify?: ShopifyClientOptions;
  /**
   * Where Shopify is: `https://{shop}` (the default) or the emulator's `http://127.0.0.1:4010/{shop}`.
   * The one setting for refreshes (`shopify.baseUrl` defaults to it), the Admin clients of
   * {@link Vault.admin} and custom-token checks; a `shopify.baseUrl` or `admin.shopifyBaseUrl`
   * that says otherwise is a ConfigError, so no part of the vault reaches another Shopify.
   */
  shopifyBaseUrl?: string;
  /** Refresh margin and retry policy. */
  refresh?: RefreshOptions;
  /** The in-process cache of decrypted offline tokens behind {@link Vault.token}; `{ maxEntries: 0 }` turns it off. */
  cache?: TokenCacheOptions;
  /** Options of the Admin API clients {@link Vault.admin} hands out (base URL and clock default to the vault's). */
  admin?: AdminOptions;
}

/** Where {@link Vault.importCustomToken} checks a token; the vault's `shopify` option by default. */
export interface ImportCustomTokenOptions {
  /** Base-URL template of the shop's admin host; the `shopify.baseUrl` option, else `https://{shop}`. */
  shopifyBaseUrl?: string;
  /** The fetch for the check; the `shopify.fetch` option, else the global fetch. */
  fetch?: typeof fetch;
}

/** Options of one {@link Vault.token} call. */
export interface TokenOptions {
  /** The token must stay valid this many ms; the vault's `refresh.marginMs` (5 minutes) by default. */
  marginMs?: number;
}

const STORAGE_METHODS: readonly (keyof TokenStorage)[] = [
  'get',
  'put',
  'list',
  'swapOffline',
  'swapOfflineAccess',
  'deleteOnline',
  'markInstalled',
  'dueOffline',
  'close',
];
const USER_ID = /^\d{1,20}$/;
const SCOPE = /^[^\s,]+$/;

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function scopeProblem(name: string, scopes: unknown): string[] {
  const ok = Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string' && SCOPE.test(scope));
  return ok ? [] : [`${name} must be an array of scope handles`];
}

/** Throws one TypeError naming every problem with a token input; never includes token values. */
function check(what: string, problems: string[]): void {
  if (problems.length > 0) throw new TypeError(`invalid ${what}: ${problems.join('; ')}`);
}

function checkShop(shop: unknown): asserts shop is string {
  check('shop', isShopDomain(shop) ? [] : ['must be a canonical shop domain ({name}.myshopify.com, lower case)']);
}

export { rowMetadata };

/**
 * The vault's one base URL: `shopifyBaseUrl`, else `shopify.baseUrl`, else `admin.shopifyBaseUrl`,
 * else `https://{shop}`. Pushes a problem when they disagree or the template is bad.
 */
function checkBaseUrls(options: VaultOptions | undefined, problems: string[]): string {
  const given: [string, unknown][] = [
    ['shopifyBaseUrl', options?.shopifyBaseUrl],
    ['shopify.baseUrl', options?.shopify?.baseUrl],
    ['admin.shopifyBaseUrl', options?.admin?.shopifyBaseUrl],
  ];
  const set = given.filter(([, value]) => value !== undefined);
  const [first] = set;
  if (!first) return DEFAULT_SHOPIFY_BASE_URL;
  const problem = typeof first[1] === 'string' ? checkBaseUrlTemplate(first[1]) : 'must be a string';
  if (problem) {
    if (first[0] !== 'shopify.baseUrl') problems.push(`${first[0]} ${problem}`);
    return DEFAULT_SHOPIFY_BASE_URL;
  }
  for (const [name, value] of set.slice(1)) {
    if (value !== first[1]) problems.push(`${name} and ${first[0]} name different Shopify base URLs: give one`);
  }
  return first[1] as string;
}

/**
 * The {@link TokenVault} over a storage and a key ring.
 *
 * @example
 * const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
 * const token = await vault.offline('cool-shop.myshopify.com');
 */
export class Vault implements TokenVault {
  readonly #storage: TokenStorage;
  readonly #ring: KeyRing;
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #events = new VaultEmitter();
  readonly #refresher: Refresher;
  readonly #migrator: Migrator;
  readonly #credentials: ClientCredentials;
  readonly #gate: AppCredentialsGate;
  /** Shared with the refresher, the migrator and client credentials: {@link Vault.connectApp} fills in `shopify`. */
  readonly #context: RefresherContext;
  readonly #timeoutMs: number;
  readonly #cache: TokenCache;
  #adminOptions: AdminOptions;
  #baseUrl: string;
  /** True when a base URL was given to the constructor (it is then never adopted from a flow). */
  readonly #baseUrlGiven: boolean;
  #admin: AdminFactory | undefined;

  /** Checks the options and reports every problem at once (ConfigError). */
  constructor(options: VaultOptions) {
    const problems: string[] = [];
    const storage = options?.storage;
    if (!storage || !STORAGE_METHODS.every((m) => typeof storage[m] === 'function')) {
      problems.push(`storage must be a TokenStorage (${STORAGE_METHODS.join(', ')})`);
    }
    let ring: KeyRing | undefined;
    if (options?.keys instanceof KeyRing) {
      ring = options.keys;
    } else {
      try {
        ring = KeyRing.from(options?.keys ?? []);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems.map((problem) => `keys: ${problem}`));
      }
    }
    if (options?.now !== undefined && typeof options.now !== 'function') problems.push('now must be a function');
    const base = checkBaseUrls(options, problems);
    const shopify = checkShopifyOptions(
      options?.shopify && options.shopify.baseUrl === undefined
        ? { ...options.shopify, baseUrl: base }
        : options?.shopify,
      problems,
    );
    const policy = checkRefreshOptions(options?.refresh, problems);
    if (problems.length > 0 || !ring) throw new ConfigError(problems);
    this.#storage = storage;
    this.#ring = ring;
    this.#now = options.now ?? Date.now;
    this.#marginMs = policy.marginMs;
    const events = this.#events;
    this.#gate = new AppCredentialsGate({ now: this.#now, events, probeIntervalMs: policy.credentialsProbeMs });
    const holds = new ShopHolds(this.#now);
    const context = { storage, ring, now: this.#now, shopify, policy, events, gate: this.#gate, holds };
    this.#context = context;
    this.#refresher = new Refresher(context);
    this.#migrator = new Migrator(context);
    this.#credentials = new ClientCredentials(context);
    this.#timeoutMs = policy.timeoutMs;
    this.#cache = new TokenCache(options.cache);
    this.#baseUrl = base;
    this.#baseUrlGiven = [options.shopifyBaseUrl, options.shopify?.baseUrl, options.admin?.shopifyBaseUrl].some(
      (value) => value !== undefined,
    );
    this.#adminOptions = { now: this.#now, ...options.admin, shopifyBaseUrl: base };
  }

  get #shopify(): ShopifyClient | null {
    return this.#context.shopify;
  }

  /**
   * Connects a vault opened without Shopify settings to the app and Shopify of an install flow
   * (`createShoptoken` calls it), so its refreshes, migrations and {@link Vault.admin} clients reach
   * the same Shopify with the same app. A vault that has its own settings is not changed: the
   * problems are returned when they name another app or another Shopify (`[]` when they agree).
   *
   * @example
   * const problems = vault.connectApp({ clientId, secrets: [secret], baseUrl: 'https://{shop}' });
   */
  connectApp(app: AppConnection): string[] {
    const problems: string[] = [];
    const current = this.#shopify;
    if (current && current.clientId !== app.clientId) {
      problems.push(
        `the vault holds the credentials of another app (client id ${current.clientId}, not ${app.clientId})`,
      );
    }
    if ((current || this.#baseUrlGiven) && this.#baseUrl !== app.baseUrl) {
      problems.push(
        `the vault reaches Shopify at ${this.#baseUrl} and the install flow at ${app.baseUrl}: give both the same ` +
          'shopifyBaseUrl (openDefaultVault(config) and createShoptoken({ config }) do)',
      );
    }
    if (problems.length > 0 || current) return problems;
    this.#context.shopify = {
      clientId: app.clientId,
      clientSecret: app.secrets[0] as string,
      baseUrl: app.baseUrl,
      fetch: app.fetch,
    };
    this.#baseUrl = app.baseUrl;
    const adminFetch = this.#adminOptions.fetch ?? app.fetch;
    this.#adminOptions = {
      ...this.#adminOptions,
      shopifyBaseUrl: app.baseUrl,
      ...(adminFetch ? { fetch: adminFetch } : {}),
    };
    this.#admin = undefined;
    return [];
  }

  /** Where this vault reaches Shopify (its `shopifyBaseUrl`), and the app's client id when it has credentials. */
  get shopify(): { baseUrl: string; clientId: string | null } {
    return { baseUrl: this.#baseUrl, clientId: this.#shopify?.clientId ?? null };
  }

  /**
   * The shop's offline token, valid for at least `marginMs` (5 minutes by default): what app code
   * calls before every Admin API request. A non-expiring token is returned as it is; an expiring
   * one close to expiry is refreshed first (one refresh per shop at a time, stored atomically with
   * a compare-and-set; transient faults retried with backoff). Throws a ShoptokenError with code
   * `ERR_NEEDS_REAUTH` when the shop has no token or Shopify refused its refresh token for good
   * (then `needs_reauth` is emitted once), and the last retryable error when Shopify stayed
   * unreachable (the shop is not marked). `ERR_APP_CREDENTIALS` (retryable) when Shopify refuses the
   * app's client id/secret (no shop is marked; see {@link Vault.appCredentials}) and
   * `ERR_REFRESH_DEFERRED` (retryable) while the shop is held after an answer Shopify does not
   * document (a 404: 5 minutes, doubling to 1 hour); a token still valid for `marginMs` is served
   * meanwhile. A malformed answer (no `expires_in`) stores nothing: `ERR_UNEXPECTED_RESPONSE`, and
   * the next call repeats the same refresh. A migration to an expiring token that was started and not
   * finished (see {@link Vault.migrateToExpiring}) is finished first. Never returns the refresh token.
   *
   * @example
   * const { accessToken } = await vault.token('cool-shop.myshopify.com');
   */
  async token(shop: string, options?: TokenOptions): Promise<OfflineToken> {
    checkShop(shop);
    const marginMs = options?.marginMs ?? this.#marginMs;
    check('token options', isDuration(marginMs) ? [] : ['marginMs must be a number of milliseconds ≥ 0']);
    const now = this.#now();
    const cached = this.#cache.get(shop, now, marginMs);
    if (cached) return cached;
    const row = await this.#storage.get(shop, 'offline', '');
    if (!row) throw needsReauthError(shop, 'no offline token is stored');
    if (row.status === 'needs_reauth') throw needsReauthError(shop, 'Shopify refused its token for good');
    if (migrationState(row) === 'started' && this.#shopify) {
      // An exchange was sent and its answer not stored: Shopify may have revoked the stored token
      // already, so finish the migration (the same exchange answers the same pair) and use its pair.
      // Refused for good (uninstalled, or the 7-day window passed), the shop is marked and this throws.
      await this.#migrator.finish(shop);
      return this.token(shop, options);
    }
    let token: OfflineToken;
    if (row.grant === 'client_credentials') {
      const fresh = credentialsDue(row, now, marginMs)
        ? await this.#credentials.renew(shop, marginMs)
        : { row, accessToken: this.#open(row, 'access_token', row.accessToken) };
      token = offlineToken(fresh.row, fresh.accessToken);
    } else if (isFresh(row, now, marginMs)) {
      token = offlineToken(row, this.#open(row, 'access_token', row.accessToken));
    } else {
      const fresh = await this.#refresher.refresh(shop, marginMs);
      token = offlineToken(fresh.row, fresh.accessToken);
    }
    // Shared by every caller served from the cache: frozen so no caller can change another's copy.
    Object.freeze(token.scopes);
    this.#cache.set(shop, Object.freeze(token), now);
    return token;
  }

  /**
   * Listens to a vault event; returns the function that stops listening. `needs_reauth` fires once
   * when a shop's refresh token is refused for good or lapses (`{ shop, reason }`, no token values);
   * `app_credentials_rejected` (`{ grant, reason }`) once when Shopify refuses the app's client
   * id/secret, and `app_credentials_restored` (`{ grant, rejectedForMs }`) once they work again.
   *
   * @example
   * vault.on('needs_reauth', ({ shop, reason }) => mailMerchant(shop, reason));
   * vault.on('app_credentials_rejected', ({ reason }) => pageOnCall(`Shopify refused the app secret: ${reason}`));
   */
  on<E extends keyof VaultEvents>(event: E, listener: VaultListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Whether Shopify accepts the app's client id and secret, as this process last saw it. After an
   * `invalid_client` answer it is `rejected` (no shop is marked): token requests fail fast with
   * `ERR_APP_CREDENTIALS`, tokens still valid are served, the keeper pauses, and one probe request
   * per `refresh.credentialsProbeMs` (60 s) is let through until a grant succeeds. Holds no secret.
   *
   * @example
   * const { status, since, reason } = vault.appCredentials(); // { status: 'ok', since: null, … }
   */
  appCredentials(): AppCredentialsStatus {
    return this.#gate.status();
  }

  /**
   * Records that Shopify refuses the shop's offline access token `accessToken` for good (for
   * instance the Admin API answered 401 to it even after a refresh) and emits `needs_reauth` once.
   * Returns false and changes nothing when the stored token is no longer `accessToken` (a refresh
   * or a new install replaced it) or the shop is already marked. The row is marked with a
   * compare-and-set, so a concurrent install is never undone; `vault.token` then refuses the shop
   * (ERR_NEEDS_REAUTH) until a new install stores a token.
   *
   * @example
   * await vault.markNeedsReauth(shop, 'admin_unauthorized', token.accessToken);
   */
  async markNeedsReauth(shop: string, reason: NeedsReauthReason, accessToken: string): Promise<boolean> {
    checkShop(shop);
    this.#cache.delete(shop);
    const row = await this.#storage.get(shop, 'offline', '');
    if (!row || row.status === 'needs_reauth') return false;
    const stored = Buffer.from(this.#open(row, 'access_token', row.accessToken));
    const given = Buffer.from(String(accessToken));
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return false;
    // A compare-and-set on what the row holds, so a newer token stored meanwhile is never marked.
    return markRowNeedsReauth({ storage: this.#storage, now: this.#now, events: this.#events }, row, reason);
  }

  /**
   * An Admin GraphQL client that always carries a current token: the shop's (offline, refreshed as
   * needed) or, with `userId`, that staff user's online token. On a 401 it refreshes and retries
   * once, then marks the shop `needs_reauth`; it waits out `THROTTLED` (see `createAdmin`).
   *
   * @example
   * const { data } = await vault.admin('cool-shop.myshopify.com').request('{ shop { name } }');
   */
  admin(shop: string, options?: { userId?: string }): TokenAwareAdminClient {
    this.#admin ??= createAdmin(this, this.#adminOptions);
    return this.#admin(shop, options);
  }

  /**
   * A background keeper over this vault: refreshes access tokens shortly before they expire and idle
   * shops before their refresh token lapses, reading only due rows (see {@link createKeeper}).
   * Throws ConfigError on bad options.
   *
   * @example
   * const keeper = vault.keeper({ intervalMs: 60_000 });
   * keeper.start();
   * process.on('SIGTERM', () => void keeper.stop());
   */
  keeper(options?: KeeperOptions): Keeper {
    return createKeeper(
      {
        storage: this.#storage,
        now: this.#now,
        token: (shop, o) => this.token(shop, o),
        appCredentials: () => this.#gate.status(),
      },
      options,
    );
  }

  /**
   * Registers `shop` as a store of the app's own organization: acquires a token with the
   * client-credentials grant now and stores it (sealed) as the shop's offline token, replacing any
   * other. From then on {@link Vault.token} renews it by repeating the grant once 80 % of its
   * lifetime has passed or 5 minutes before expiry, whichever is earlier (one grant per shop at a
   * time). Shopify's refusal (`shop_not_permitted`: a store of another organization, or one where the
   * app is not installed) throws a ShoptokenError (`ERR_OAUTH_RESPONSE`) saying so, and stores
   * nothing; refused later, at a renewal, it marks the shop `needs_reauth`. Needs the `shopify` option.
   *
   * @example
   * await vault.useClientCredentials('own-store.myshopify.com');
   * const { accessToken } = await vault.token('own-store.myshopify.com');
   */
  async useClientCredentials(shop: string): Promise<OfflineToken> {
    checkShop(shop);
    this.#cache.delete(shop);
    const fresh = await this.#credentials.acquire(shop);
    this.#cache.delete(shop);
    return offlineToken(fresh.row, fresh.accessToken);
  }

  /**
   * Stores a custom app's static token for `shop` after checking it with the Admin API
   * (`currentAppInstallation { accessScopes { handle } }`, through the `shopify` option's base URL
   * and fetch, else `https://{shop}` and the global fetch); the granted scopes come from that
   * answer. The row's grant is `custom`: {@link Vault.token} returns it as it is, and it is never
   * migrated. A token Shopify does not accept throws a ShoptokenError `ERR_TOKEN_REJECTED` and
   * nothing is stored; messages never hold the token.
   *
   * @example
   * const token = await vault.importCustomToken('cool-shop.myshopify.com', tokenFromStdin);
   * console.log(token.scopes);
   */
  async importCustomToken(
    shop: string,
    accessToken: string,
    options?: ImportCustomTokenOptions,
  ): Promise<OfflineToken> {
    checkShop(shop);
    // Visible ASCII only: anything else could not be sent as a header, and the error saying so would quote it.
    const usable = typeof accessToken === 'string' && /^[\x21-\x7e]{1,512}$/.test(accessToken);
    const baseUrl = options?.shopifyBaseUrl ?? this.#baseUrl;
    const baseUrlProblem = typeof baseUrl === 'string' ? checkBaseUrlTemplate(baseUrl) : 'must be a string';
    check('custom token import', [
      ...(usable ? [] : ['the token must be 1 to 512 visible ASCII characters']),
      ...(baseUrlProblem ? [`shopifyBaseUrl ${baseUrlProblem}`] : []),
    ]);
    const scopes = await verifyCustomToken({
      shop,
      accessToken,
      baseUrl,
      fetch: options?.fetch ?? this.#shopify?.fetch ?? fetch,
      timeoutMs: this.#timeoutMs,
    });
    this.#cache.delete(shop);
    const row = await this.#write('offline', '', {
      shop,
      accessToken,
      refreshToken: null,
      user: null,
      scopes,
      associatedUserScopes: null,
      expiresAt: null,
      refreshTokenExpiresAt: null,
      grant: 'custom',
    });
    return offlineToken(row, accessToken);
  }

  /**
   * Migrates the shop's non-expiring offline token to an expiring pair with Shopify's token
   * exchange (irreversible at Shopify). An intent is stored on the row before the call and cleared
   * when the new pair is stored (compare-and-set on the old token); if the answer is lost or the
   * process dies in between, calling again sends the same exchange, which Shopify answers with the
   * same pair for 7 days. `failed` (with a value-free reason, e.g. `invalid_subject_token (HTTP 400)`
   * for an uninstalled shop) leaves the row as it was. Needs the `shopify` option.
   *
   * @example
   * const { status, reason } = await vault.migrateToExpiring('cool-shop.myshopify.com');
   */
  async migrateToExpiring(shop: string): Promise<MigrationResult> {
    checkShop(shop);
    this.#cache.delete(shop);
    try {
      return await this.#migrator.migrate(shop);
    } finally {
      this.#cache.delete(shop);
    }
  }

  /**
   * Every stored offline token and where it stands in the migration to expiring tokens
   * (`non_expiring`, `started`: an exchange was sent and its pair not stored yet, `expiring`).
   * Reads metadata only.
   *
   * @example
   * const toMigrate = (await vault.migrationPlan()).filter((entry) => entry.state !== 'expiring');
   */
  migrationPlan(): Promise<MigrationPlanEntry[]> {
    return this.#migrator.plan();
  }

  async saveOffline(input: OfflineTokenInput): Promise<OfflineToken> {
    const { shop, accessToken, expiresAt, refreshToken, refreshTokenExpiresAt } = input;
    check('offline token', [
      ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
      ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
      ...scopeProblem('scopes', input.scopes),
      ...(expiresAt === null || isDate(expiresAt) ? [] : ['expiresAt must be a Date or null']),
      ...(refreshToken === null || isNonEmptyString(refreshToken)
        ? []
        : ['refreshToken must be a non-empty string or null']),
      ...(refreshToken !== null && expiresAt === null
        ? ['refreshToken is only for expiring tokens (set expiresAt)']
        : []),
      ...(refreshTokenExpiresAt === null || (isDate(refreshTokenExpiresAt) && refreshToken !== null)
        ? []
        : ['refreshTokenExpiresAt must be a Date with a refreshToken, else null']),
    ]);
    this.#cache.delete(shop);
    const row = await this.#write('offline', '', {
      shop,
      accessToken,
      refreshToken,
      user: null,
      scopes: input.scopes,
      associatedUserScopes: null,
      expiresAt: expiresAt?.getTime() ?? null,
      refreshTokenExpiresAt: refreshTokenExpiresAt?.getTime() ?? null,
    });
    return offlineToken(row, accessToken);
  }

  async saveOnline(input: OnlineTokenInput): Promise<OnlineToken> {
    const { shop, accessToken, expiresAt, user } = input;
    check('online token', [
      ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
      ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
      ...scopeProblem('scopes', input.scopes),
      ...scopeProblem('associatedUserScopes', input.associatedUserScopes),
      ...(isDate(expiresAt) ? [] : ['expiresAt must be a Date']),
      ...(typeof user === 'object' && user !== null && typeof user.id === 'string' && USER_ID.test(user.id)
        ? []
        : ['user.id must be a string of digits']),
    ]);
    const row = await this.#write('online', user.id, {
      shop,
      accessToken,
      refreshToken: null,
      user: JSON.stringify(user),
      scopes: input.scopes,
      associatedUserScopes: input.associatedUserScopes,
      expiresAt: expiresAt.getTime(),
      refreshTokenExpiresAt: null,
    });
    return this.#online(row, accessToken);
  }

  async offline(shop: string): Promise<OfflineToken | null> {
    checkShop(shop);
    const row = await this.#storage.get(shop, 'offline', '');
    if (!row) return null;
    return offlineToken(row, this.#open(row, 'access_token', row.accessToken));
  }

  async markInstalled(shop: string): Promise<void> {
    checkShop(shop);
    this.#cache.delete(shop);
    // A targeted update: a whole-row write here could undo a refresh that landed in between.
    const marked = await this.#storage.markInstalled(shop, this.#now());
    if (!marked) throw new TypeError(`invalid install: ${shop} has no offline token`);
  }

  async online(shop: string, userId: string): Promise<OnlineToken | null> {
    checkShop(shop);
    check('userId', typeof userId === 'string' && USER_ID.test(userId) ? [] : ['must be a string of digits']);
    const row = await this.#storage.get(shop, 'online', userId);
    if (!row || row.expiresAt === null || this.#now() >= row.expiresAt) return null;
    return this.#online(row, this.#open(row, 'access_token', row.accessToken));
  }

  /**
   * Deletes the user's online token: what a sign-out does, so a session cookie bound to it no longer
   * opens a session. Returns true when one was stored.
   *
   * @example
   * await vault.deleteOnline('cool-shop.myshopify.com', '42');
   */
  async deleteOnline(shop: string, userId: string): Promise<boolean> {
    checkShop(shop);
    check('userId', typeof userId === 'string' && USER_ID.test(userId) ? [] : ['must be a string of digits']);
    return this.#storage.deleteOnline(shop, userId);
  }

  async list(): Promise<TokenMetadata[]> {
    return (await this.#storage.list()).map(rowMetadata);
  }

  async close(): Promise<void> {
    await this.#storage.close();
  }

  /** Seals the values and upserts the row, keeping `createdAt` of an existing record. */
  async #write(
    kind: TokenKind,
    userId: string,
    fields: {
      shop: string;
      accessToken: string;
      refreshToken: string | null;
      user: string | null;
      scopes: readonly string[];
      associatedUserScopes: readonly string[] | null;
      expiresAt: number | null;
      refreshTokenExpiresAt: number | null;
      grant?: TokenGrant;
    },
  ): Promise<TokenRow> {
    const { shop } = fields;
    const seal = (field: TokenField, value: string) => this.#ring.seal(value, tokenAad({ shop, kind, userId, field }));
    const now = this.#now();
    const existing = await this.#storage.get(shop, kind, userId);
    const row: TokenRow = {
      shop,
      kind,
      userId,
      accessToken: seal('access_token', fields.accessToken),
      refreshToken: fields.refreshToken === null ? null : seal('refresh_token', fields.refreshToken),
      user: fields.user === null ? null : seal('user', fields.user),
      scopes: formatScopes(parseScopes(fields.scopes)),
      associatedUserScopes:
        fields.associatedUserScopes === null ? null : formatScopes(parseScopes(fields.associatedUserScopes)),
      expiresAt: fields.expiresAt,
      refreshTokenExpiresAt: fields.refreshTokenExpiresAt,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      // An install stays completed when its offline token is re-minted (expiry, new scopes).
      installedAt: kind === 'offline' ? (existing?.installedAt ?? null) : null,
      // A token from the auth flow starts a new refresh history.
      previousRefreshToken: null,
      status: 'active',
      refreshFailures: 0,
      lastRefreshError: null,
      // A token from the auth flow replaces the one a migration was started with.
      migrationStartedAt: null,
      grant: fields.grant ?? 'authorization_code',
      issuedAt: null,
    };
    await this.#storage.put(row);
    return row;
  }

  #open(row: TokenRow, field: TokenField, sealed: string): string {
    return this.#ring.open(sealed, tokenAad({ shop: row.shop, kind: row.kind, userId: row.userId, field }));
  }

  #online(row: TokenRow, accessToken: string): OnlineToken {
    const user = JSON.parse(this.#open(row, 'user', row.user ?? '')) as AssociatedUser;
    const metadata = rowMetadata(row) as TokenMetadata & {
      kind: 'online';
      userId: string;
      associatedUserScopes: string[];
    };
    return withAccessToken({ ...metadata, expiresAt: new Date(row.expiresAt!), user }, accessToken);
  }
}

/**
 * Opens a vault over `storage` with `keys` (current first). Throws ConfigError on bad options.
 *
 * @example
 * const vault = openVault({ storage: openSqliteStorage('.shoptoken/shoptoken.db'), keys: parseKeyList(env.SHOPTOKEN_KEYS!) });
 */
export function openVault(options: VaultOptions): Vault {
  return new Vault(options);
}
