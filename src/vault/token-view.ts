/**
 * How stored rows are shown to app code: metadata read from the clear columns (no key needed), and
 * the access token as a non-enumerable property, so logging or serializing a token leaves it out.
 */

import { parseScopes } from '../protocol/scopes.ts';
import type { TokenRow } from '../storage/types.ts';
import type { NeedsReauthReason } from './events.ts';
import type { OfflineToken, TokenMetadata } from './types.ts';

const time = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/**
 * Puts the token value on `target` as a non-enumerable property: usable as `token.accessToken`,
 * but left out of `JSON.stringify`, `util.inspect` (so `console.log`) and object spread.
 */
export function withAccessToken<T extends object>(target: T, accessToken: string): T & { accessToken: string } {
  return Object.defineProperty(target, 'accessToken', { value: accessToken, enumerable: false }) as T & {
    accessToken: string;
  };
}

/** An offline row as app code sees it, with `accessToken` (in clear) non-enumerable. */
export function offlineToken(row: TokenRow, accessToken: string): OfflineToken {
  const metadata = rowMetadata(row) as TokenMetadata & { kind: 'offline'; userId: null };
  return withAccessToken(
    {
      ...metadata,
      expiring: row.refreshToken !== null,
      grant: row.grant,
      installedAt: time(row.installedAt),
      status: row.status,
      needsReauthReason:
        row.status === 'needs_reauth' ? ((row.lastRefreshError as NeedsReauthReason | null) ?? null) : null,
    },
    accessToken,
  );
}

/**
 * The metadata of a stored row; reads no sealed value, so it needs no key (the CLI lists with it).
 *
 * @example
 * (await storage.list()).map(rowMetadata)
 */
export function rowMetadata(row: TokenRow): TokenMetadata {
  return {
    shop: row.shop,
    kind: row.kind,
    userId: row.kind === 'online' ? row.userId : null,
    scopes: parseScopes(row.scopes),
    associatedUserScopes: row.associatedUserScopes === null ? null : parseScopes(row.associatedUserScopes),
    expiresAt: time(row.expiresAt),
    refreshTokenExpiresAt: time(row.refreshTokenExpiresAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}
