/**
 * A drop-in for Shopify's `SessionStorage` (`storeSession`, `loadSession`, `deleteSession`,
 * `deleteSessions`, `findSessionsByShop`) over shoptoken's vault: an app on
 * `@shopify/shopify-app-express`, `-react-router` or `-remix` changes its `sessionStorage` line and
 * its tokens are sealed at rest, refreshed by the vault once per rotation across every instance.
 *
 * What it decides (docs/guides/moving-from-shopify-session-storage.md says the same):
 * - **Ids.** `offline_{shop}` is the shop's offline token; `{shop}_{userId}` that user's online
 *   token; any other online id (a non-embedded app's random id) points to its user's row through
 *   {@link SessionAliases}. An offline session under another id, a shop that is not
 *   `{name}.myshopify.com`, or an online session without a user id or an expiry cannot be keyed:
 *   `storeSession` throws a TypeError rather than store what it could not load back.
 * - **What `loadSession` returns.** An offline session carries a token valid for at least `marginMs`
 *   (6 minutes: more than the libraries' 5-minute window), refreshed by the vault first if needed;
 *   never the refresh token (`refreshToken` is absent, so the libraries never refresh by
 *   themselves — the vault does, under its cross-instance lock), but `expires` and
 *   `refreshTokenExpires`. A shop Shopify refused (`needs_reauth`), or none stored, loads as
 *   `undefined`, which makes the library authenticate again; other failures (Shopify unreachable,
 *   the store down) reject, as any storage's would. `state` is not kept (`''`).
 * - **Writes.** Storing a session whose token the vault already holds writes nothing (a session
 *   loaded here and stored back must not lose the refresh token it does not carry), unless Shopify
 *   refused that token and has given it back since (a re-install returns the same non-expiring
 *   token: the shop is active again); a session
 *   whose access token was removed (the libraries' `invalidateAccessToken` after an Admin 401)
 *   marks the shop `needs_reauth` (offline) or deletes the user's token (online), unless the vault
 *   meanwhile holds another token than the one handed out. A stored offline session counts as an
 *   installed shop.
 * - **Deletes.** Deleting `offline_{shop}` deletes every token of the shop (offline and online):
 *   the vault keeps no online token without its shop's.
 */

import { createHash } from 'node:crypto';
import type { Session, SessionParams } from '@shopify/shopify-api';
import { ConfigError, ShoptokenError } from '../errors.ts';
import { isShopDomain } from '../protocol/shop.ts';
import type { NeedsReauthReason } from '../vault/events.ts';
import type { OfflineToken, OfflineTokenInput, OnlineToken, OnlineTokenInput, TokenMetadata } from '../vault/types.ts';
import { type AliasTarget, createMemorySessionAliases, type SessionAliases } from './aliases.ts';
import { type SessionClass, shopifySessionClass } from './session-class.ts';
import { offlineSessionId, onlineSessionId, parseSessionId, type SessionKey } from './session-ids.ts';
import { offlineInput, offlineParams, onlineInput, onlineParams, sessionKeyOf } from './session-mapping.ts';

/** The vault as the drop-in storage uses it (a `Vault` from `openVault` or `openDefaultVault`). */
export interface SessionStorageVault {
  readonly now: () => number;
  token(shop: string, options?: { marginMs?: number }): Promise<OfflineToken>;
  offline(shop: string): Promise<OfflineToken | null>;
  online(shop: string, userId: string): Promise<OnlineToken | null>;
  saveOffline(input: OfflineTokenInput): Promise<OfflineToken>;
  saveOnline(input: OnlineTokenInput): Promise<OnlineToken>;
  markInstalled(shop: string): Promise<void>;
  markNeedsReauth(shop: string, reason: NeedsReauthReason, accessToken: string): Promise<boolean>;
  deleteOnline(shop: string, userId: string): Promise<boolean>;
  deleteShop(shop: string): Promise<number>;
  list(options?: { shop?: string }): Promise<TokenMetadata[]>;
}

/** Options of {@link createSessionStorage}. */
export interface SessionStorageOptions {
  /** A loaded offline session's token stays valid at least this long (ms); 6 minutes by default. */
  marginMs?: number;
  /** Where non-embedded online session ids (random) are remembered; this process's memory by default. */
  aliases?: SessionAliases;
  /** The `Session` class to build; `@shopify/shopify-api`'s by default. */
  sessionClass?: SessionClass;
}

/** Shopify's `SessionStorage` interface, as shoptoken implements it. */
export interface ShoptokenSessionStorage {
  storeSession(session: Session): Promise<boolean>;
  loadSession(id: string): Promise<Session | undefined>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessions(ids: string[]): Promise<boolean>;
  findSessionsByShop(shop: string): Promise<Session[]>;
}

/** The libraries refresh a token within 5 minutes of expiry; a minute more keeps them from trying. */
export const DEFAULT_MARGIN_MS = 6 * 60_000;

const VAULT_METHODS = [
  'token',
  'offline',
  'online',
  'saveOffline',
  'saveOnline',
  'markInstalled',
  'markNeedsReauth',
  'deleteOnline',
  'deleteShop',
  'list',
] as const;

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

const isNeedsReauth = (error: unknown): boolean => error instanceof ShoptokenError && error.code === 'ERR_NEEDS_REAUTH';

class VaultSessionStorage implements ShoptokenSessionStorage {
  readonly #vault: SessionStorageVault;
  readonly #marginMs: number;
  readonly #aliases: SessionAliases;
  readonly #sessionClass: SessionClass | undefined;
  /** The digest of the token each session this storage handed out carried, to tell what changed in it. */
  readonly #handedOut = new WeakMap<object, string>();

  constructor(vault: SessionStorageVault, options: SessionStorageOptions) {
    this.#vault = vault;
    this.#marginMs = options.marginMs ?? DEFAULT_MARGIN_MS;
    this.#aliases = options.aliases ?? createMemorySessionAliases({ now: vault.now });
    this.#sessionClass = options.sessionClass;
  }

  async storeSession(session: Session): Promise<boolean> {
    const { key, alias } = sessionKeyOf(session);
    const token = typeof session.accessToken === 'string' && session.accessToken !== '' ? session.accessToken : null;
    if (token === null) {
      await this.#invalidate(key, session);
      return true;
    }
    const handed = this.#handedOut.get(session);
    if (handed !== undefined && handed === digest(token)) return true;
    if (key.kind === 'offline') {
      // The same token again writes nothing — unless Shopify refused it since and has now given it
      // back (a re-install answers with the same non-expiring token): then it is active again.
      const held = await this.#vault.offline(key.shop);
      if (held && held.status === 'active' && held.accessToken === token) return true;
      const saved = await this.#vault.saveOffline(offlineInput(session, key.shop, token));
      if (saved.installedAt === null) await this.#vault.markInstalled(key.shop);
      return true;
    }
    if (alias !== null)
      await this.#aliases.set(alias, { shop: key.shop, userId: key.userId }, session.expires!.getTime());
    const held = await this.#vault.online(key.shop, key.userId);
    if (held && held.accessToken === token) return true;
    await this.#vault.saveOnline(onlineInput(session, key, token));
    return true;
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const key = await this.#resolve(id);
    if (key === null) return undefined;
    if (key.kind === 'offline') {
      let token: OfflineToken;
      try {
        token = await this.#vault.token(key.shop, { marginMs: this.#marginMs });
      } catch (error) {
        if (isNeedsReauth(error)) return undefined;
        throw error;
      }
      return this.#offlineSession(id, token);
    }
    const token = await this.#vault.online(key.shop, key.userId);
    return token ? this.#onlineSession(id, token) : undefined;
  }

  async deleteSession(id: string): Promise<boolean> {
    const known = parseSessionId(id);
    if (known?.kind === 'offline') await this.#vault.deleteShop(known.shop);
    else if (known?.kind === 'online') await this.#vault.deleteOnline(known.shop, known.userId);
    else if (typeof id === 'string') {
      const target = await this.#aliases.get(id);
      if (target) {
        await this.#vault.deleteOnline(target.shop, target.userId);
        await this.#aliases.delete(id);
      }
    }
    return true;
  }

  async deleteSessions(ids: string[]): Promise<boolean> {
    for (const id of ids) await this.deleteSession(id);
    return true;
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    if (!isShopDomain(shop)) return [];
    const rows = await this.#vault.list({ shop });
    const sessions: Session[] = [];
    for (const row of rows) {
      if (row.kind === 'offline') {
        const token = await this.#vault.offline(shop);
        if (token) sessions.push(await this.#offlineSession(offlineSessionId(shop), token));
      } else if (row.userId !== null) {
        const token = await this.#vault.online(shop, row.userId);
        if (token) sessions.push(await this.#onlineSession(onlineSessionId(shop, row.userId), token));
      }
    }
    return sessions;
  }

  /** The row `id` names: by its form, else through the aliases. */
  async #resolve(id: string): Promise<SessionKey | null> {
    const known = parseSessionId(id);
    if (known) return known;
    if (typeof id !== 'string' || id === '') return null;
    const target: AliasTarget | null = await this.#aliases.get(id);
    return target && { kind: 'online', shop: target.shop, userId: target.userId };
  }

  /** A session without its access token: the token the app was handed no longer works. */
  async #invalidate(key: SessionKey, session: Session): Promise<void> {
    const handed = this.#handedOut.get(session);
    if (key.kind === 'offline') {
      const held = await this.#vault.offline(key.shop);
      if (!held || held.status === 'needs_reauth') return;
      if (handed !== undefined && handed !== digest(held.accessToken)) return;
      await this.#vault.markNeedsReauth(key.shop, 'admin_unauthorized', held.accessToken);
      return;
    }
    const held = await this.#vault.online(key.shop, key.userId);
    if (!held) return;
    if (handed !== undefined && handed !== digest(held.accessToken)) return;
    await this.#vault.deleteOnline(key.shop, key.userId);
  }

  async #build(params: SessionParams, accessToken: string): Promise<Session> {
    const SessionType = this.#sessionClass ?? (await shopifySessionClass());
    const session = new SessionType(params);
    this.#handedOut.set(session, digest(accessToken));
    return session;
  }

  #offlineSession(id: string, token: OfflineToken): Promise<Session> {
    return this.#build(offlineParams(id, token), token.accessToken);
  }

  #onlineSession(id: string, token: OnlineToken): Promise<Session> {
    return this.#build(onlineParams(id, token, this.#vault.now()), token.accessToken);
  }
}

/**
 * Shopify's `SessionStorage` over shoptoken's vault: pass it where the app passes its session
 * storage (see the module comment for the id mapping and what a loaded session carries). Throws
 * ConfigError for a missing vault or bad options.
 *
 * @example
 * const { vault } = await openDefaultVault(loadConfig({ env: process.env, cwd: process.cwd() }));
 * const shopify = shopifyApp({ …, sessionStorage: createSessionStorage(vault) });
 */
export function createSessionStorage(
  vault: SessionStorageVault,
  options: SessionStorageOptions = {},
): ShoptokenSessionStorage {
  const problems: string[] = [];
  if (typeof vault !== 'object' || vault === null || !VAULT_METHODS.every((m) => typeof vault[m] === 'function')) {
    problems.push('vault must be a shoptoken vault (openVault or openDefaultVault)');
  }
  const { marginMs, aliases, sessionClass } = options ?? {};
  if (marginMs !== undefined && !(Number.isFinite(marginMs) && marginMs >= 0)) {
    problems.push('marginMs must be a number of milliseconds ≥ 0');
  }
  if (aliases !== undefined && !(['get', 'set', 'delete'] as const).every((m) => typeof aliases?.[m] === 'function')) {
    problems.push('aliases must have get, set and delete');
  }
  if (sessionClass !== undefined && typeof sessionClass !== 'function') problems.push('sessionClass must be a class');
  if (problems.length > 0) throw new ConfigError(problems);
  return new VaultSessionStorage(vault, options ?? {});
}
