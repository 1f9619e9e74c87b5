/**
 * The vault's public shapes. App code gets access tokens and metadata from the vault; it never
 * gets a refresh token.
 */

import type { AssociatedUser } from '../protocol/tokens.ts';
import type { StateStorage, TokenGrant, TokenKind } from '../storage/types.ts';
import type { NeedsReauthReason } from './events.ts';

export type { TokenGrant, TokenKind } from '../storage/types.ts';

/** What the install flow hands the vault after an offline code exchange. */
export interface OfflineTokenInput {
  shop: string;
  accessToken: string;
  scopes: readonly string[];
  /** `null` for a non-expiring token. */
  expiresAt: Date | null;
  /** Only for expiring offline tokens. */
  refreshToken: string | null;
  refreshTokenExpiresAt: Date | null;
  /**
   * When the merchant's authorization this token comes from was exchanged (the install flow gives
   * the time of its code exchange). A late `app/uninstalled` older than this leaves the token alone;
   * absent or `null` (an import: unknown), an `app/uninstalled` always deletes it.
   */
  authorizedAt?: Date | null;
}

/** What the install flow hands the vault after an online (per-user) code exchange. */
export interface OnlineTokenInput {
  shop: string;
  accessToken: string;
  /** Scopes granted to the app (`scope`). */
  scopes: readonly string[];
  /** Scopes this user's token may use (`associated_user_scope`). */
  associatedUserScopes: readonly string[];
  expiresAt: Date;
  user: AssociatedUser;
}

/** Metadata shared by every token record; never holds a token value. */
export interface TokenMetadata {
  shop: string;
  kind: TokenKind;
  /** `null` for offline tokens. */
  userId: string | null;
  scopes: string[];
  /** `null` for offline tokens. */
  associatedUserScopes: string[] | null;
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * An offline token as app code sees it. `accessToken` is a non-enumerable property: it is there to
 * use, but `JSON.stringify`, `console.log` and object spread leave it out.
 */
export interface OfflineToken extends TokenMetadata {
  kind: 'offline';
  userId: null;
  accessToken: string;
  /** True for an expiring offline token (it has a refresh token, which the vault keeps to itself). */
  expiring: boolean;
  /** How the token is obtained (see {@link TokenGrant}). */
  grant: TokenGrant;
  /** When the install completed (`afterAuth` succeeded); `null` while it has not. Kept across re-mints. */
  installedAt: Date | null;
  /**
   * `needs_reauth` once Shopify refused the token (or its refresh token) for good: the merchant must
   * open the app again, whose next `/auth` runs the offline leg and stores a fresh, `active` token.
   */
  status: 'active' | 'needs_reauth';
  /**
   * Why the token needs re-authorization (`null` while `active`): `admin_unauthorized` when the
   * Admin API refused the token itself — the app was uninstalled (or the token revoked), so the next
   * install is a new one and runs `afterAuth` again; a refused refresh token, a lapsed one, …
   */
  needsReauthReason: NeedsReauthReason | null;
}

/** An online token as app code sees it. `accessToken` is non-enumerable, as on {@link OfflineToken}. */
export interface OnlineToken extends TokenMetadata {
  kind: 'online';
  userId: string;
  accessToken: string;
  associatedUserScopes: string[];
  expiresAt: Date;
  user: AssociatedUser;
}

/** The app and the Shopify an install flow works with, handed to {@link TokenVault.connectApp}. */
export interface AppConnection {
  clientId: string;
  /** Client secrets, current first. */
  secrets: readonly string[];
  /** Base-URL template of Shopify (`https://{shop}`, or the emulator's). */
  baseUrl: string;
  /** The flow's fetch, if it was given one. */
  fetch?: typeof fetch | undefined;
}

/** The vault as the auth flow, the adapters and the CLI use it. */
export interface TokenVault {
  /**
   * Optional. Connects a vault opened without Shopify settings to the flow's app and Shopify, so
   * refreshes and Admin calls go where the install flow goes; returns the problems (another app,
   * another Shopify) when the vault has settings of its own that disagree, else `[]`.
   */
  connectApp?(app: AppConnection): string[];
  /**
   * Optional. Runs `afterAuth` once per install across every browser and instance finishing it at
   * once, then marks the install complete; `already_installed` when another caller's ran. Without
   * it the flow calls `afterAuth` and then `markInstalled` itself.
   */
  completeInstall?(
    shop: string,
    afterAuth: (offline: OfflineToken) => void | Promise<void>,
  ): Promise<'completed' | 'already_installed'>;
  /**
   * Optional. Runs `grant` — the request that makes Shopify issue the shop a new offline token, and
   * the save of its answer — as the shop's only offline grant across every instance. Without it two
   * installs of one shop finishing at once may store their pairs out of the order Shopify issued them.
   */
  withOfflineGrant?<T>(shop: string, grant: () => Promise<T>): Promise<T>;
  /** Optional. Where the install flow keeps pending OAuth states by default (shared by every instance). */
  readonly states?: StateStorage;
  saveOffline(input: OfflineTokenInput): Promise<OfflineToken>;
  saveOnline(input: OnlineTokenInput): Promise<OnlineToken>;
  /** The shop's offline token, or `null` when there is none. */
  offline(shop: string): Promise<OfflineToken | null>;
  /** The user's online token, or `null` when there is none or it has expired. */
  online(shop: string, userId: string): Promise<OnlineToken | null>;
  /** Deletes the user's online token (a sign-out); true when one was stored. */
  deleteOnline(shop: string, userId: string): Promise<boolean>;
  /** The shop's offline token, refreshed when due (see `VaultCore.token`). */
  token?(shop: string): Promise<OfflineToken>;
  /** Marks the shop's token `accessToken` refused for good (see `VaultCore.markNeedsReauth`). */
  markNeedsReauth?(shop: string, reason: NeedsReauthReason, accessToken: string): Promise<boolean>;
  /** Deletes every token of the shop (an uninstall found out by the install flow). */
  deleteShop?(shop: string): Promise<number>;
  /** Records that the shop's install completed (its `afterAuth` succeeded); needs an offline token. */
  markInstalled(shop: string): Promise<void>;
  /** Metadata of every stored token (no values), ordered by shop, kind, user. */
  list(): Promise<TokenMetadata[]>;
  close(): Promise<void>;
}
