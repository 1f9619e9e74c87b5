/**
 * One stored Shopify session, read from any source layout, turned into what the vault stores — an
 * offline token (with its refresh token and both expiries when it expires) or a user's online
 * token with the user — or into the reason it cannot be imported. Field names are matched without
 * regard to case (the PostgreSQL adapter's first versions wrote `isonline`, `accesstoken`), and the
 * user is read from the columns the adapters write today (`userId`, `firstName`, …) or from the
 * `onlineAccessInfo` of their earlier versions (the user id, or its JSON).
 */

import { isShopDomain } from '../protocol/shop.ts';
import type { AssociatedUser } from '../protocol/tokens.ts';
import { readBoolean, readScopes, readText, readTime, readUserId } from './values.ts';

/** A session as a source holds it, keyed by lower-cased field names. */
export type RawSession = Readonly<Record<string, unknown>>;

/** Why a session is not imported. */
export type SkipReason =
  /** Not a session: no id, no shop, or no `isOnline`. */
  | 'malformed'
  /** The shop is not a canonical `{name}.myshopify.com` domain. */
  | 'invalid_shop'
  /** No access token (the app invalidated it, or never stored one). */
  | 'no_access_token'
  /** A time, a scope list or a flag that cannot be read. */
  | 'invalid_field'
  /** An online session without its user's id. */
  | 'no_user'
  /** An online session without an expiry. */
  | 'no_expiry'
  /** An online token past its expiry. */
  | 'online_expired'
  /** An expiring offline token whose refresh token has lapsed. */
  | 'refresh_token_expired'
  /** An offline token past its expiry, with no refresh token to renew it. */
  | 'access_token_expired';

/** The reasons that mean "expired" (counted in the report's `expired`). */
export const EXPIRED_REASONS: readonly SkipReason[] = [
  'online_expired',
  'refresh_token_expired',
  'access_token_expired',
];

/** A shop's offline token, as the vault will store it. Times in epoch ms. */
export interface OfflineCandidate {
  kind: 'offline';
  shop: string;
  accessToken: string;
  scopes: string[];
  expiresAt: number | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: number | null;
}

/** A user's online token, as the vault will store it. */
export interface OnlineCandidate {
  kind: 'online';
  shop: string;
  accessToken: string;
  scopes: string[];
  associatedUserScopes: string[];
  expiresAt: number;
  user: AssociatedUser;
}

export type Candidate = OfflineCandidate | OnlineCandidate;

/** What a session became: a token to import, or the reason it is skipped (with what is known of it). */
export type Reading =
  | { candidate: Candidate }
  | { skip: SkipReason; shop: string | null; kind: 'offline' | 'online' | null; userId: string | null };

const skip = (
  reason: SkipReason,
  shop: string | null = null,
  kind: 'offline' | 'online' | null = null,
  userId: string | null = null,
): Reading => ({ skip: reason, shop, kind, userId });

/** The user of an online session, from the user columns or an earlier version's `onlineAccessInfo`. */
function readUser(raw: RawSession): { user: AssociatedUser; userScopes: string[] | undefined } | undefined {
  let info: Record<string, unknown> = {};
  let userScopes: string[] | undefined;
  const legacy = raw.onlineaccessinfo;
  let id = readUserId(raw.userid);
  if (id === undefined && legacy !== undefined && legacy !== null) {
    const text = typeof legacy === 'string' ? legacy.trim() : legacy;
    if (typeof text === 'string' && text.startsWith('{')) {
      try {
        const parsed = JSON.parse(text) as {
          associated_user?: Record<string, unknown>;
          associated_user_scope?: unknown;
        };
        info = parsed.associated_user ?? {};
        userScopes = readScopes(parsed.associated_user_scope) ?? undefined;
        id = readUserId(info.id);
      } catch {
        return undefined;
      }
    } else {
      id = readUserId(text);
    }
  }
  if (id === undefined) return undefined;
  const field = (column: string, key: string): unknown => raw[column] ?? info[key];
  const text = (column: string, key: string) => readText(field(column, key)) ?? '';
  const flag = (column: string, key: string) => readBoolean(field(column, key)) ?? false;
  return {
    user: {
      id,
      firstName: text('firstname', 'first_name'),
      lastName: text('lastname', 'last_name'),
      email: text('email', 'email'),
      emailVerified: flag('emailverified', 'email_verified'),
      accountOwner: flag('accountowner', 'account_owner'),
      locale: text('locale', 'locale'),
      collaborator: flag('collaborator', 'collaborator'),
    },
    userScopes,
  };
}

/**
 * Reads one session at `now` (epoch ms): the token to import, or why not. Never quotes a value.
 *
 * @example
 * readSession({ id: 'offline_cool-shop.myshopify.com', shop: 'cool-shop.myshopify.com', isonline: 0, accesstoken: 'shpat_…', scope: 'write_products' }, Date.now());
 */
export function readSession(raw: RawSession, now: number): Reading {
  const id = readText(raw.id);
  const shopText = readText(raw.shop);
  const online = readBoolean(raw.isonline);
  if (id === undefined || shopText === undefined || online === undefined) return skip('malformed');
  const kind = online ? 'online' : 'offline';
  if (!isShopDomain(shopText)) return skip('invalid_shop', null, kind);
  const shop = shopText;
  const accessToken = readText(raw.accesstoken);
  const scopes = readScopes(raw.scope);
  const expiresAt = readTime(raw.expires);
  if (scopes === undefined || expiresAt === undefined) return skip('invalid_field', shop, kind);

  if (online) {
    const found = readUser(raw);
    if (!found) return skip('no_user', shop, kind);
    const userId = found.user.id;
    if (!accessToken) return skip('no_access_token', shop, kind, userId);
    if (expiresAt === null) return skip('no_expiry', shop, kind, userId);
    if (expiresAt <= now) return skip('online_expired', shop, kind, userId);
    // The adapters do not keep `associated_user_scope`; the session's scope stands in for it.
    const associatedUserScopes = found.userScopes ?? scopes;
    return {
      candidate: { kind: 'online', shop, accessToken, scopes, associatedUserScopes, expiresAt, user: found.user },
    };
  }

  if (!accessToken) return skip('no_access_token', shop, kind);
  const refreshToken = readText(raw.refreshtoken) ?? null;
  const refreshTokenExpiresAt = refreshToken === null ? null : readTime(raw.refreshtokenexpires);
  if (refreshTokenExpiresAt === undefined) return skip('invalid_field', shop, kind);
  if (refreshToken !== null) {
    if (refreshTokenExpiresAt !== null && refreshTokenExpiresAt <= now)
      return skip('refresh_token_expired', shop, kind);
    // A refresh token without an expiry of its access token: due now, so the vault refreshes it first.
    return {
      candidate: {
        kind: 'offline',
        shop,
        accessToken,
        scopes,
        expiresAt: expiresAt ?? now,
        refreshToken,
        refreshTokenExpiresAt,
      },
    };
  }
  if (expiresAt !== null && expiresAt <= now) return skip('access_token_expired', shop, kind);
  return {
    candidate: {
      kind: 'offline',
      shop,
      accessToken,
      scopes,
      expiresAt,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    },
  };
}

/** `row` with its field names lower-cased (the layouts differ only in case). */
export function lowerKeys(row: Readonly<Record<string, unknown>>): RawSession {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key.toLowerCase()] = value;
  return out;
}
