/**
 * The token vault: validates what the auth flow hands it (input.ts), keeps one app's rows in a
 * storage sealed with the key ring (records.ts), and runs the token jobs — refresh, client
 * credentials, migration, the install claim — over one grant context (context.ts), each once per
 * shop across processes (coordinate.ts). App code gets access tokens and metadata back; refresh
 * tokens never leave the vault. The Admin API client sits on top of it (src/open-vault.ts): the
 * vault itself imports nothing from `admin/`.
 */

import { timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { AssociatedUser } from '../protocol/tokens.ts';
import type { TokenRow, TokenStorage } from '../storage/types.ts';
import { AppCredentialsGate, type AppCredentialsStatus } from './app-credentials.ts';
import { resolveBaseUrl } from './base-url.ts';
import { ClientCredentials, credentialsDue } from './client-credentials.ts';
import type { GrantContext } from './context.ts';
import { type CoordinationOptions, ShopCoordinator } from './coordinate.ts';
import { verifyCustomToken } from './custom-token.ts';
import { type NeedsReauthReason, VaultEmitter, type VaultEvents, type VaultListener } from './events.ts';
import { appProblem, check, checkOfflineInput, checkOnlineInput, checkShop, checkUserId } from './input.ts';
import { createKeeper, type Keeper, type KeeperOptions } from './keeper.ts';
import { type Key, KeyRing } from './keyring.ts';
import { type MigrationPlanEntry, type MigrationResult, Migrator, migrationState } from './migrator.ts';
import { newRow } from './new-rows.ts';
import { Records } from './records.ts';
import {
  checkRefreshOptions,
  checkShopifyOptions,
  isDuration,
  type RefreshOptions,
  type ShopifyClientOptions,
} from './refresh-options.ts';
import { isFresh, Refresher } from './refresher.ts';
import { describeReason, markNeedsReauth, needsReauthError } from './row-marks.ts';
import { ShopHolds } from './shop-hold.ts';
import { applyScopes, applyUninstall, type UninstallOutcome } from './shop-lifecycle.ts';
import { TokenCache, type TokenCacheOptions } from './token-cache.ts';
import { offlineToken, rowMetadata, withAccessToken } from './token-view.ts';
import type {
  AppConnection,
  OfflineToken,
  OfflineTokenInput,
  OnlineToken,
  OnlineTokenInput,
  TokenMetadata,
  TokenVault,
} from './types.ts';
import { WebhookInbox } from './webhook-inbox.ts';

export { rowMetadata };

/** How to open a vault (the Admin client's options are added by `openVault`, src/open-vault.ts). */
export interface VaultCoreOptions {
  /** Where sealed rows live. */
  storage: TokenStorage;
  /** A key ring, or keys (current first). */
  keys: KeyRing | readonly Key[];
  /**
   * The Shopify app (client id) whose tokens this vault holds in the store; `''` (the default) for a
   * store that holds one app's tokens. Name it when one store keeps the tokens of several apps.
   */
  app?: string;
  /** Clock in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
  /** The app's credentials, needed to refresh expiring offline tokens ({@link VaultCore.token}). */
  shopify?: ShopifyClientOptions;
  /**
   * Where Shopify is: `https://{shop}` (the default) or the emulator's `http://127.0.0.1:4010/{shop}`.
   * The one setting for refreshes (`shopify.baseUrl` defaults to it), the Admin clients and custom-token
   * checks; a `shopify.baseUrl` or `admin.shopifyBaseUrl` that says otherwise is a ConfigError.
   */
  shopifyBaseUrl?: string;
  /** Refresh margin and retry policy. */
  refresh?: RefreshOptions;
  /** The in-process cache of decrypted offline tokens behind {@link VaultCore.token}; `{ maxEntries: 0 }` turns it off. */
  cache?: TokenCacheOptions;
  /** How token jobs are coordinated across processes sharing the store (lease time, longest wait). */
  coordination?: CoordinationOptions;
  /** Checked here for the base URL only; used by `openVault`'s Admin clients. */
  admin?: { shopifyBaseUrl?: string };
}

/** Where {@link VaultCore.importCustomToken} checks a token; the vault's own by default. */
export interface ImportCustomTokenOptions {
  /** Base-URL template of the shop's admin host; the vault's `shopifyBaseUrl` by default. */
  shopifyBaseUrl?: string;
  /** The fetch for the check; the `shopify.fetch` option, else the global fetch. */
  fetch?: typeof fetch;
}

/** Options of one {@link VaultCore.token} call. */
export interface TokenOptions {
  /** The token must stay valid this many ms; the vault's `refresh.marginMs` (5 minutes) by default. */
  marginMs?: number;
}

const STORAGE_METHODS = [
  'get',
  'put',
  'swap',
  'markInstalled',
  'deleteOnline',
  'deleteShop',
  'list',
  'due',
  'close',
] as const;

/** The vault, without the Admin API client (see `Vault` in src/open-vault.ts). */
export class VaultCore implements TokenVault {
  readonly #records: Records;
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #events = new VaultEmitter();
  readonly #context: GrantContext;
  readonly #refresher: Refresher;
  readonly #migrator: Migrator;
  readonly #credentials: ClientCredentials;
  readonly #gate: AppCredentialsGate;
  readonly #timeoutMs: number;
  readonly #cache: TokenCache;
  #baseUrl: string;
  /** True when a base URL was given to the constructor (it is then never adopted from a flow). */
  readonly #baseUrlGiven: boolean;

  /** Checks the options and reports every problem at once (ConfigError). */
  constructor(options: VaultCoreOptions) {
    const problems: string[] = [];
    const storage = options?.storage;
    if (
      !storage ||
      !STORAGE_METHODS.every((m) => typeof storage[m] === 'function') ||
      !storage.leases ||
      !storage.states
    ) {
      problems.push(`storage must be a TokenStorage (${STORAGE_METHODS.join(', ')}, leases, states)`);
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
    const app = options?.app ?? '';
    const badApp = appProblem(app);
    if (badApp) problems.push(badApp);
    if (options?.now !== undefined && typeof options.now !== 'function') problems.push('now must be a function');
    const base = resolveBaseUrl(options, problems);
    const given = options?.shopify;
    const shopify = checkShopifyOptions(
      given && given.baseUrl === undefined ? { ...given, baseUrl: base.url } : given,
      problems,
    );
    const policy = checkRefreshOptions(options?.refresh, problems);
    if (problems.length > 0 || !ring) throw new ConfigError(problems);
    this.#now = options.now ?? Date.now;
    this.#marginMs = policy.marginMs;
    this.#records = new Records(storage, ring, app);
    this.#gate = new AppCredentialsGate({
      now: this.#now,
      events: this.#events,
      probeIntervalMs: policy.credentialsProbeMs,
    });
    this.#context = {
      records: this.#records,
      now: this.#now,
      shopify,
      policy,
      events: this.#events,
      gate: this.#gate,
      holds: new ShopHolds(this.#now),
      coordinator: new ShopCoordinator(storage.leases, app, options.coordination),
    };
    this.#refresher = new Refresher(this.#context);
    this.#migrator = new Migrator(this.#context);
    this.#credentials = new ClientCredentials(this.#context);
    this.#timeoutMs = policy.timeoutMs;
    this.#cache = new TokenCache(options.cache);
    this.#baseUrl = base.url;
    this.#baseUrlGiven = base.given;
  }

  /** The app this vault's rows belong to (`''` for a single-app store). */
  get app(): string {
    return this.#records.app;
  }

  /** The vault's clock. */
  get now(): () => number {
    return this.#now;
  }

  /** Where this vault reaches Shopify (its `shopifyBaseUrl`), and the app's client id when it has credentials. */
  get shopify(): { baseUrl: string; clientId: string | null; fetch: typeof fetch | undefined } {
    const client = this.#context.shopify;
    return { baseUrl: this.#baseUrl, clientId: client?.clientId ?? null, fetch: client?.fetch };
  }

  /**
   * The store's webhook inbox for this vault's app, deliveries sealed under the vault's keys; `null`
   * when the store has none (a user's store without `webhooks`).
   */
  webhookInbox(): WebhookInbox | null {
    const storage = this.#records.storage.webhooks;
    return storage ? new WebhookInbox(storage, this.#records.ring, this.#records.app) : null;
  }

  /**
   * Records that Shopify uninstalled the app from `shop` (an `app/uninstalled` delivery triggered at
   * `triggeredAt`, epoch ms, or `null` when unknown): deletes every token of the shop — offline,
   * client credentials, each user's online token — so a reinstall runs the whole install flow and
   * `afterAuth` again. A late delivery never deletes a newer install's tokens: when the offline token
   * was authorized after `triggeredAt`, nothing is deleted (`reinstalled: true`). Runs as the shop's
   * offline grant, so an install finishing at the same moment is ordered with it.
   *
   * @example
   * const { deleted, reinstalled } = await vault.uninstalled(shop, delivery.triggeredAt?.epochMs ?? null);
   */
  async uninstalled(shop: string, triggeredAt: number | null): Promise<UninstallOutcome> {
    checkShop(shop);
    this.#cache.delete(shop);
    const outcome = await applyUninstall(this.#context, shop, triggeredAt);
    this.#cache.delete(shop);
    return outcome;
  }

  /**
   * Stores the scopes Shopify now grants on `shop` (an `app/scopes_update` delivery), unless its
   * offline token was authorized after the change (`changedAt`, epoch ms, or `null`). True when it wrote.
   *
   * @example
   * await vault.scopesUpdated(shop, payload.current, Date.parse(payload.updated_at));
   */
  async scopesUpdated(shop: string, scopes: readonly string[], changedAt: number | null): Promise<boolean> {
    checkShop(shop);
    this.#cache.delete(shop);
    return applyScopes(this.#context, shop, scopes, changedAt);
  }

  /** The store's OAuth states, for the install flow's default state store (shared by every instance). */
  get states(): TokenStorage['states'] {
    return this.#records.storage.states;
  }

  /**
   * Connects a vault opened without Shopify settings to the app and Shopify of an install flow
   * (`createShoptoken` calls it), so its refreshes, migrations and Admin clients reach the same
   * Shopify with the same app. A vault that has its own settings is not changed: the problems are
   * returned when they name another app or another Shopify (`[]` when they agree).
   *
   * @example
   * const problems = vault.connectApp({ clientId, secrets: [secret], baseUrl: 'https://{shop}' });
   */
  connectApp(app: AppConnection): string[] {
    const problems: string[] = [];
    const current = this.#context.shopify;
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
    return [];
  }

  /**
   * The shop's offline token, valid for at least `marginMs` (5 minutes by default): what app code
   * calls before every Admin API request. A non-expiring token is returned as it is; an expiring
   * one close to expiry is refreshed first — one refresh per shop at a time in this process and in
   * every process sharing the store (the others wait for its pair), stored atomically with a
   * compare-and-set; transient faults retried with backoff. Throws a ShoptokenError with code
   * `ERR_NEEDS_REAUTH` when the shop has no token or Shopify refused its refresh token for good
   * (then `needs_reauth` is emitted once), and the last retryable error when Shopify stayed
   * unreachable (the shop is not marked). `ERR_APP_CREDENTIALS` (retryable) when Shopify refuses the
   * app's client id/secret (no shop is marked; see {@link VaultCore.appCredentials}) and
   * `ERR_REFRESH_DEFERRED` (retryable) while the shop is held after an answer Shopify does not
   * document (a 404: 5 minutes, doubling to 1 hour); a token still valid for `marginMs` is served
   * meanwhile. A malformed answer (no `expires_in`) stores nothing: `ERR_UNEXPECTED_RESPONSE`, and
   * the next call repeats the same refresh. A migration to an expiring token that was started and not
   * finished (see {@link VaultCore.migrateToExpiring}) is finished first. Never returns the refresh token.
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
    const row = await this.#records.offline(shop);
    if (!row) throw needsReauthError(shop, 'no offline token is stored');
    if (row.status === 'needs_reauth') throw needsReauthError(shop, 'Shopify refused its token for good');
    if (!this.#records.ring.canOpen(row.accessToken)) return this.#keyRetired(row);
    if (migrationState(row) === 'started' && this.#context.shopify) {
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
        : { row, accessToken: this.#records.open(row, 'access_token', row.accessToken) };
      token = offlineToken(fresh.row, fresh.accessToken);
    } else if (isFresh(row, now, marginMs)) {
      token = offlineToken(row, this.#records.open(row, 'access_token', row.accessToken));
    } else {
      const fresh = await this.#refresher.refresh(shop, marginMs);
      token = offlineToken(fresh.row, fresh.accessToken);
    }
    // Shared by every caller served from the cache: frozen so no caller can change another's copy.
    Object.freeze(token.scopes);
    this.#cache.set(shop, Object.freeze(token), now);
    return token;
  }

  /** A row whose token no configured key opens: marked `needs_reauth` (`key_retired`), never retried. */
  async #keyRetired(row: TokenRow): Promise<never> {
    this.#cache.delete(row.shop);
    await markNeedsReauth(this.#context, row, 'key_retired');
    throw needsReauthError(row.shop, describeReason('key_retired'));
  }

  /**
   * Listens to a vault event; returns the function that stops listening. `needs_reauth` fires once
   * when a shop's refresh token is refused for good or lapses (`{ shop, reason }`, no token values);
   * `app_credentials_rejected` (`{ grant, reason }`) once when Shopify refuses the app's client
   * id/secret, and `app_credentials_restored` (`{ grant, rejectedForMs }`) once they work again.
   *
   * @example
   * vault.on('needs_reauth', ({ shop, reason }) => mailMerchant(shop, reason));
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
   * compare-and-set, so a concurrent install is never undone.
   *
   * @example
   * await vault.markNeedsReauth(shop, 'admin_unauthorized', token.accessToken);
   */
  async markNeedsReauth(shop: string, reason: NeedsReauthReason, accessToken: string): Promise<boolean> {
    checkShop(shop);
    this.#cache.delete(shop);
    const row = await this.#records.offline(shop);
    if (!row || row.status === 'needs_reauth' || !this.#records.ring.canOpen(row.accessToken)) return false;
    const stored = Buffer.from(this.#records.open(row, 'access_token', row.accessToken));
    const given = Buffer.from(String(accessToken));
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return false;
    return markNeedsReauth(this.#context, row, reason);
  }

  /**
   * Completes the shop's install once, whatever the number of browsers or instances finishing it at
   * the same time: under the shop's `install` lease (taken in this process and across processes),
   * re-reads the offline row and, if the install is not marked complete yet, runs `afterAuth` with the
   * stored offline token and then marks it. Resolves `completed` when this call ran `afterAuth`,
   * `already_installed` when the install was complete (another caller's `afterAuth` ran). A caller
   * whose `afterAuth` throws leaves the install unmarked, and the next sign-in runs it again; a
   * claimant that dies leaves a lease that expires, and the next sign-in completes the install.
   *
   * @example
   * const outcome = await vault.completeInstall(shop, (offline) => afterAuth({ shop, offline, … }));
   */
  async completeInstall(
    shop: string,
    afterAuth: (offline: OfflineToken) => void | Promise<void>,
  ): Promise<'completed' | 'already_installed'> {
    checkShop(shop);
    let ran = false;
    const installed = async () =>
      (await this.#records.offline(shop))?.installedAt == null ? null : ('already_installed' as const);
    const outcome = await this.#context.coordinator.run(
      'install',
      shop,
      async () => {
        const row = await this.#records.offline(shop);
        if (!row) throw needsReauthError(shop, 'no offline token is stored');
        if (row.installedAt !== null) return 'already_installed' as const;
        ran = true;
        await afterAuth(offlineToken(row, this.#records.open(row, 'access_token', row.accessToken)));
        this.#cache.delete(shop);
        await this.#records.markInstalled(shop, this.#now());
        return 'completed' as const;
      },
      installed,
    );
    // A caller that joined another caller's run in this process did not run its own afterAuth.
    return ran ? outcome : 'already_installed';
  }

  /**
   * Runs `grant` — a request that makes Shopify issue the shop a new offline token (an install's
   * code exchange), and the save of its answer — as the shop's only such grant in every process
   * sharing the store, once any other has finished. Shopify keeps one expiring offline pair per
   * shop and app, each new one retiring the last: two installs finishing at once must store their
   * pairs in the order Shopify issued them, or the retired pair would be the one kept. Never shares
   * a run between callers (each exchanges its own code).
   *
   * @example
   * await vault.withOfflineGrant(shop, async () => vault.saveOffline(await exchange(code)));
   */
  withOfflineGrant<T>(shop: string, grant: () => Promise<T>): Promise<T> {
    checkShop(shop);
    return this.#context.coordinator.serialize('grant', shop, grant);
  }

  /**
   * A background keeper over this vault: refreshes access tokens shortly before they expire and idle
   * shops before their refresh token lapses, reading only due rows; with several instances, each due
   * shop is renewed by one of them (see {@link createKeeper}). Throws ConfigError on bad options.
   *
   * @example
   * const keeper = vault.keeper({ intervalMs: 60_000 });
   * keeper.start();
   * process.on('SIGTERM', () => void keeper.stop());
   */
  keeper(options?: KeeperOptions): Keeper {
    return createKeeper(
      {
        due: (index, query) => this.#records.due(index, query),
        claims: {
          leases: this.#records.storage.leases,
          app: this.#records.app,
          current: (shop) => this.#records.offline(shop),
        },
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
   * other. From then on {@link VaultCore.token} renews it by repeating the grant once 80 % of its
   * lifetime has passed or 5 minutes before expiry, whichever is earlier (one grant per shop at a
   * time). Shopify's refusal (`shop_not_permitted`) throws a ShoptokenError (`ERR_OAUTH_RESPONSE`)
   * saying so, and stores nothing; refused later, at a renewal, it marks the shop `needs_reauth`.
   *
   * @example
   * await vault.useClientCredentials('own-store.myshopify.com');
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
   * (`currentAppInstallation { accessScopes { handle } }`, on the vault's Shopify); the granted
   * scopes come from that answer. The row's grant is `custom`: {@link VaultCore.token} returns it as
   * it is, and it is never migrated. A token Shopify does not accept throws `ERR_TOKEN_REJECTED` and
   * nothing is stored; messages never hold the token.
   *
   * @example
   * const token = await vault.importCustomToken('cool-shop.myshopify.com', tokenFromStdin);
   */
  async importCustomToken(
    shop: string,
    accessToken: string,
    options?: ImportCustomTokenOptions,
  ): Promise<OfflineToken> {
    checkShop(shop);
    // Visible ASCII only: anything else could not be sent as a header, and the error saying so would quote it.
    const usable = typeof accessToken === 'string' && /^[\x21-\x7e]{1,512}$/.test(accessToken);
    const problems: string[] = [];
    const baseUrl = options?.shopifyBaseUrl === undefined ? this.#baseUrl : resolveBaseUrl(options, problems).url;
    check('custom token import', [
      ...(usable ? [] : ['the token must be 1 to 512 visible ASCII characters']),
      ...problems,
    ]);
    const scopes = await verifyCustomToken({
      shop,
      accessToken,
      baseUrl,
      fetch: options?.fetch ?? this.#context.shopify?.fetch ?? fetch,
      timeoutMs: this.#timeoutMs,
    });
    this.#cache.delete(shop);
    const fields = { shop, accessToken, refreshToken: null, user: null, scopes, associatedUserScopes: null };
    const row = await this.#records.put(
      newRow(
        this.#records,
        'offline',
        '',
        { ...fields, expiresAt: null, refreshTokenExpiresAt: null, grant: 'custom' },
        this.#now(),
      ),
    );
    return offlineToken(row, accessToken);
  }

  /**
   * Migrates the shop's non-expiring offline token to an expiring pair with Shopify's token
   * exchange (irreversible at Shopify). An intent is stored on the row before the call and cleared
   * when the new pair is stored (compare-and-set on the old token); if the answer is lost or the
   * process dies in between, calling again sends the same exchange, which Shopify answers with the
   * same pair for 7 days. One migration per shop at a time across processes. Needs the `shopify` option.
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
    checkOfflineInput(input);
    this.#cache.delete(input.shop);
    const fields = { ...input, user: null, associatedUserScopes: null };
    const row = await this.#records.put(
      newRow(
        this.#records,
        'offline',
        '',
        {
          ...fields,
          expiresAt: input.expiresAt?.getTime() ?? null,
          refreshTokenExpiresAt: input.refreshTokenExpiresAt?.getTime() ?? null,
          authorizedAt: input.authorizedAt?.getTime() ?? null,
        },
        this.#now(),
      ),
    );
    // Read back: the store keeps the install mark and creation time of a re-minted token.
    return offlineToken((await this.#records.offline(input.shop)) ?? row, input.accessToken);
  }

  async saveOnline(input: OnlineTokenInput): Promise<OnlineToken> {
    checkOnlineInput(input);
    const { shop, accessToken, user } = input;
    const fields = { shop, accessToken, refreshToken: null, user: JSON.stringify(user), scopes: input.scopes };
    const row = await this.#records.put(
      newRow(
        this.#records,
        'online',
        user.id,
        {
          ...fields,
          associatedUserScopes: input.associatedUserScopes,
          expiresAt: input.expiresAt.getTime(),
          refreshTokenExpiresAt: null,
        },
        this.#now(),
      ),
    );
    return this.#online(row, accessToken);
  }

  async offline(shop: string): Promise<OfflineToken | null> {
    checkShop(shop);
    const row = await this.#records.offline(shop);
    if (!row) return null;
    if (!this.#records.ring.canOpen(row.accessToken)) {
      // No configured key opens it: marked, and treated as absent (the next install stores a fresh one).
      await markNeedsReauth(this.#context, row, 'key_retired');
      return null;
    }
    return offlineToken(row, this.#records.open(row, 'access_token', row.accessToken));
  }

  async markInstalled(shop: string): Promise<void> {
    checkShop(shop);
    this.#cache.delete(shop);
    // A targeted update: a whole-row write here could undo a refresh that landed in between.
    const marked = await this.#records.markInstalled(shop, this.#now());
    if (!marked) throw new TypeError(`invalid install: ${shop} has no offline token`);
  }

  async online(shop: string, userId: string): Promise<OnlineToken | null> {
    checkShop(shop);
    checkUserId(userId);
    const row = await this.#records.online(shop, userId);
    if (!row || row.expiresAt === null || this.#now() >= row.expiresAt) return null;
    // A token no configured key opens is as good as absent: the user signs in again.
    if (!this.#records.ring.canOpen(row.accessToken) || (row.user && !this.#records.ring.canOpen(row.user)))
      return null;
    return this.#online(row, this.#records.open(row, 'access_token', row.accessToken));
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
    checkUserId(userId);
    return this.#records.deleteOnline(shop, userId);
  }

  /**
   * Deletes every token of the shop — offline, client credentials and every user's online token —
   * as an uninstall or a `shop/redact` calls for. Returns how many rows went.
   *
   * @example
   * await vault.deleteShop('cool-shop.myshopify.com');
   */
  async deleteShop(shop: string): Promise<number> {
    checkShop(shop);
    this.#cache.delete(shop);
    return this.#records.deleteShop(shop);
  }

  /**
   * Metadata (no values) of every stored token of the vault's app, or of one shop's tokens when
   * `shop` is given, ordered by shop, kind, user.
   *
   * @example
   * const tokens = await vault.list({ shop: 'cool-shop.myshopify.com' });
   */
  async list(options: { shop?: string } = {}): Promise<TokenMetadata[]> {
    if (options.shop !== undefined) checkShop(options.shop);
    const rows = options.shop === undefined ? this.#records.all() : this.#records.ofShop(options.shop);
    const listed: TokenMetadata[] = [];
    for await (const row of rows) listed.push(rowMetadata(row));
    return listed;
  }

  async close(): Promise<void> {
    // A read asked for just before the close is still sent (reads wait one event-loop turn to be batched).
    await this.#records.drainReads();
    await this.#records.storage.close();
  }

  #online(row: TokenRow, accessToken: string): OnlineToken {
    const user = JSON.parse(this.#records.open(row, 'user', row.user ?? '')) as AssociatedUser;
    const metadata = rowMetadata(row) as TokenMetadata & {
      kind: 'online';
      userId: string;
      associatedUserScopes: string[];
    };
    return withAccessToken({ ...metadata, expiresAt: new Date(row.expiresAt!), user }, accessToken);
  }
}
