/**
 * The row of a token handed to the vault from outside (the install flow, an import, a custom app):
 * sealed, its scopes in canonical form, a fresh refresh history. An existing row's `createdAt` and
 * install mark are the store's to keep (the storage contract), so they are not read here.
 */

import { formatScopes, parseScopes } from '../protocol/scopes.ts';
import type { TokenGrant, TokenKind, TokenRow } from '../storage/types.ts';
import type { Records } from './records.ts';

/** What a new row is made of: token values in clear, times in epoch ms. */
export interface NewRowFields {
  shop: string;
  accessToken: string;
  refreshToken: string | null;
  /** The associated user as JSON (online tokens). */
  user: string | null;
  scopes: readonly string[];
  associatedUserScopes: readonly string[] | null;
  expiresAt: number | null;
  refreshTokenExpiresAt: number | null;
  grant?: TokenGrant;
  /** When the merchant's authorization this token comes from was exchanged (epoch ms); `null` when unknown. */
  authorizedAt?: number | null;
}

/** The sealed row for `fields` of the record (`kind`, `userId`) at `now`. */
export function newRow(records: Records, kind: TokenKind, userId: string, fields: NewRowFields, now: number): TokenRow {
  const key = records.key(fields.shop, kind, userId);
  return {
    ...key,
    accessToken: records.seal(key, 'access_token', fields.accessToken),
    refreshToken: fields.refreshToken === null ? null : records.seal(key, 'refresh_token', fields.refreshToken),
    user: fields.user === null ? null : records.seal(key, 'user', fields.user),
    scopes: formatScopes(parseScopes(fields.scopes)),
    associatedUserScopes:
      fields.associatedUserScopes === null ? null : formatScopes(parseScopes(fields.associatedUserScopes)),
    expiresAt: fields.expiresAt,
    refreshTokenExpiresAt: fields.refreshTokenExpiresAt,
    renewAt: null,
    createdAt: now,
    updatedAt: now,
    // Kept by the store when the row exists: an install stays completed when its token is re-minted.
    installedAt: null,
    // A token from outside starts a new refresh history, and replaces one a migration was started with.
    previousRefreshToken: null,
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
    migrationStartedAt: null,
    grant: fields.grant ?? 'authorization_code',
    issuedAt: null,
    authorizedAt: kind === 'offline' ? (fields.authorizedAt ?? null) : null,
  };
}
