/** needsReauth: which stored offline tokens make /auth run the offline leg and keep protected pages from serving. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsReauth } from '../../src/auth/offline-usable.ts';
import type { OfflineToken } from '../../src/vault/types.ts';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const at = (ms: number | null) => (ms === null ? null : new Date(NOW + ms));

function token(fields: {
  status?: OfflineToken['status'];
  grant?: OfflineToken['grant'];
  expiresIn?: number | null;
  refreshExpiresIn?: number | null;
}): OfflineToken {
  const { status = 'active', grant = 'authorization_code', expiresIn = null, refreshExpiresIn = null } = fields;
  return {
    shop: 'cool-shop.myshopify.com',
    kind: 'offline',
    userId: null,
    accessToken: 'shpat_value',
    scopes: ['read_products'],
    associatedUserScopes: null,
    expiresAt: at(expiresIn),
    refreshTokenExpiresAt: at(refreshExpiresIn),
    createdAt: new Date(NOW),
    updatedAt: new Date(NOW),
    expiring: refreshExpiresIn !== null,
    grant,
    installedAt: new Date(NOW),
    status,
    needsReauthReason: status === 'needs_reauth' ? 'invalid_grant' : null,
  };
}

describe('needsReauth', () => {
  const cases: [string, Parameters<typeof token>[0], boolean][] = [
    ['a non-expiring token', {}, false],
    ['an expiring token with time left', { expiresIn: 60_000, refreshExpiresIn: 86_400_000 }, false],
    [
      'an expired token whose refresh token lives (the vault refreshes it)',
      { expiresIn: -1, refreshExpiresIn: 1 },
      false,
    ],
    [
      'a token marked needs_reauth with time left',
      { status: 'needs_reauth', expiresIn: 60_000, refreshExpiresIn: 1 },
      true,
    ],
    ['a non-expiring token marked needs_reauth', { status: 'needs_reauth' }, true],
    ['an expired token without a refresh token', { expiresIn: 0 }, true],
    ['an expiring token whose refresh token lapsed', { expiresIn: -1, refreshExpiresIn: 0 }, true],
    [
      'a client-credentials token past expiry (the vault renews it)',
      { grant: 'client_credentials', expiresIn: -1 },
      false,
    ],
    ['a client-credentials token marked', { grant: 'client_credentials', status: 'needs_reauth' }, true],
    ['a custom token', { grant: 'custom' }, false],
  ];
  for (const [name, fields, expected] of cases) {
    it(`${expected ? 'needs' : 'does not need'} re-auth: ${name}`, () => {
      assert.equal(needsReauth(token(fields), NOW), expected);
    });
  }
});
