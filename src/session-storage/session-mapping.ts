/**
 * Shopify `Session`s and vault tokens, each turned into the other (pure): the row a session
 * belongs under, the vault input it makes, and the session parameters a stored token gives back —
 * with its `expires` and `refreshTokenExpires`, never its refresh token, and `state: ''`.
 */

import type { Session, SessionParams } from '@shopify/shopify-api';
import { isShopDomain } from '../protocol/shop.ts';
import type { OfflineToken, OfflineTokenInput, OnlineToken, OnlineTokenInput } from '../vault/types.ts';
import { offlineSessionId, onlineSessionId, type SessionKey } from './session-ids.ts';

/** A session's user id as a string of digits, or null. */
function userIdOf(session: Session): string | null {
  const id: unknown = session.onlineAccessInfo?.associated_user?.id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === 'string' && /^\d{1,20}$/.test(id)) return id;
  return null;
}

/** Scope handles of a comma-separated `scope`. */
const scopesOf = (scope: string | undefined): string[] =>
  (scope ?? '')
    .split(',')
    .map((handle) => handle.trim())
    .filter((handle) => handle.length > 0);

/**
 * The row `session` belongs under, and the alias to remember when its id does not name that row (a
 * non-embedded app's random online id). Throws a TypeError saying why a session cannot be keyed;
 * never quotes a token.
 */
export function sessionKeyOf(session: Session): { key: SessionKey; alias: string | null } {
  const problem = (what: string) => new TypeError(`shoptoken session storage cannot store this session: ${what}`);
  if (typeof session !== 'object' || session === null || typeof session.id !== 'string') {
    throw problem('it is not a Session');
  }
  if (!isShopDomain(session.shop)) throw problem('its shop is not a canonical {name}.myshopify.com domain');
  const shop = session.shop;
  if (!session.isOnline) {
    if (session.id !== offlineSessionId(shop)) throw problem('an offline session must have the id offline_{shop}');
    return { key: { kind: 'offline', shop }, alias: null };
  }
  const userId = userIdOf(session);
  if (userId === null) throw problem('an online session needs onlineAccessInfo.associated_user.id');
  if (!(session.expires instanceof Date) || Number.isNaN(session.expires.getTime())) {
    throw problem('an online session needs its expiry (expires)');
  }
  return {
    key: { kind: 'online', shop, userId },
    alias: session.id === onlineSessionId(shop, userId) ? null : session.id,
  };
}

/** The vault input of an offline session carrying `accessToken`. */
export function offlineInput(session: Session, shop: string, accessToken: string): OfflineTokenInput {
  const expiring = typeof session.refreshToken === 'string' && session.refreshToken !== '';
  return {
    shop,
    accessToken,
    scopes: scopesOf(session.scope),
    expiresAt: session.expires ?? null,
    refreshToken: expiring ? session.refreshToken! : null,
    refreshTokenExpiresAt: expiring ? (session.refreshTokenExpires ?? null) : null,
  };
}

/** The vault input of an online session (keyed by {@link sessionKeyOf}) carrying `accessToken`. */
export function onlineInput(
  session: Session,
  key: Extract<SessionKey, { kind: 'online' }>,
  accessToken: string,
): OnlineTokenInput {
  const info = session.onlineAccessInfo;
  const user: {
    first_name?: string;
    last_name?: string;
    email?: string;
    email_verified?: boolean;
    account_owner?: boolean;
    locale?: string;
    collaborator?: boolean;
  } = info?.associated_user ?? {};
  const scopes = scopesOf(session.scope);
  return {
    shop: key.shop,
    accessToken,
    scopes,
    associatedUserScopes:
      typeof info?.associated_user_scope === 'string' ? scopesOf(info.associated_user_scope) : scopes,
    expiresAt: session.expires!,
    user: {
      id: key.userId,
      firstName: user.first_name ?? '',
      lastName: user.last_name ?? '',
      email: user.email ?? '',
      emailVerified: user.email_verified === true,
      accountOwner: user.account_owner === true,
      locale: user.locale ?? '',
      collaborator: user.collaborator === true,
    },
  };
}

/** The parameters of the offline session `id` for a stored token. */
export function offlineParams(id: string, token: OfflineToken): SessionParams {
  return {
    id,
    shop: token.shop,
    state: '',
    isOnline: false,
    ...(token.scopes.length > 0 ? { scope: token.scopes.join(',') } : {}),
    accessToken: token.accessToken,
    ...(token.expiresAt ? { expires: new Date(token.expiresAt) } : {}),
    ...(token.refreshTokenExpiresAt ? { refreshTokenExpires: new Date(token.refreshTokenExpiresAt) } : {}),
  };
}

/** The parameters of the online session `id` for a stored token, at `now` (epoch ms). */
export function onlineParams(id: string, token: OnlineToken, now: number): SessionParams {
  const { user } = token;
  return {
    id,
    shop: token.shop,
    state: '',
    isOnline: true,
    ...(token.scopes.length > 0 ? { scope: token.scopes.join(',') } : {}),
    accessToken: token.accessToken,
    expires: new Date(token.expiresAt),
    onlineAccessInfo: {
      expires_in: Math.max(0, Math.floor((token.expiresAt.getTime() - now) / 1000)),
      associated_user_scope: token.associatedUserScopes.join(','),
      associated_user: {
        id: Number(user.id),
        first_name: user.firstName,
        last_name: user.lastName,
        email: user.email,
        email_verified: user.emailVerified,
        account_owner: user.accountOwner,
        locale: user.locale,
        collaborator: user.collaborator,
      },
    },
  };
}
