/**
 * The SQLite schema's versions, applied in order by the shared runner under `BEGIN IMMEDIATE`.
 * Versions 1–6 predate the storage contract of issue 7; version 7 rebuilds the token table for it:
 * rows keyed by app as well as shop, kind and user, a plain `renew_at` integer (the vault computes
 * it; the renewal rule no longer lives in an index expression), the keeper's indexes on
 * (app, time, shop), and the lease and OAuth-state tables.
 */

import type { Migration } from '../migrations.ts';

/**
 * A client-credentials row's renewal time, as `credentialsRenewalAt` computes it (80 % of the
 * lifetime counted from `issued_at`, else `updated_at`, or 5 minutes before expiry, whichever is
 * earlier). Part of migrations 6 and 7 as shipped: never change it.
 */
const CREDENTIALS_RENEWAL_AT = `MIN(COALESCE(issued_at, updated_at) + (expires_at - COALESCE(issued_at, updated_at)) * 0.8,
  expires_at - 300000)`;

/** The rows migration 6's partial index holds. */
const CREDENTIALS_DUE_ROWS = `kind = 'offline' AND token_grant = 'client_credentials' AND status = 'active'
  AND expires_at IS NOT NULL`;

/** The migrations shipped before version 7, as they were (never edit a shipped entry). */
const SHIPPED: readonly string[] = [
  `CREATE TABLE shoptoken_tokens (
     shop TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('offline', 'online')),
     user_id TEXT NOT NULL,
     access_token TEXT NOT NULL,
     refresh_token TEXT,
     associated_user TEXT,
     scopes TEXT NOT NULL,
     associated_user_scopes TEXT,
     expires_at INTEGER,
     refresh_token_expires_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     installed_at INTEGER,
     PRIMARY KEY (shop, kind, user_id),
     CHECK ((kind = 'offline' AND user_id = '') OR (kind = 'online' AND user_id <> ''))
   ) STRICT;
   CREATE INDEX shoptoken_tokens_expires_at ON shoptoken_tokens (expires_at) WHERE expires_at IS NOT NULL;`,
  // 2: refresh state of expiring offline tokens (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN previous_refresh_token TEXT;
   ALTER TABLE shoptoken_tokens ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
     CHECK (status IN ('active', 'needs_reauth'));
   ALTER TABLE shoptoken_tokens ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0 CHECK (refresh_failures >= 0);
   ALTER TABLE shoptoken_tokens ADD COLUMN last_refresh_error TEXT;
   CREATE INDEX shoptoken_tokens_refresh_token_expires_at ON shoptoken_tokens (refresh_token_expires_at)
     WHERE refresh_token_expires_at IS NOT NULL;`,
  // 3: the keeper's scans of due rows, resumable at a (time, shop) cursor without a sort (issue 3).
  `CREATE INDEX shoptoken_tokens_due_access ON shoptoken_tokens (expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';
   CREATE INDEX shoptoken_tokens_due_refresh ON shoptoken_tokens (refresh_token_expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';`,
  // 4: the intent record of a migration to expiring tokens, written before the irreversible exchange (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN migration_started_at INTEGER;`,
  // 5: how an offline token is obtained (client credentials, custom apps) and when it was issued (issue 3).
  `ALTER TABLE shoptoken_tokens ADD COLUMN token_grant TEXT NOT NULL DEFAULT 'authorization_code'
     CHECK (token_grant IN ('authorization_code', 'client_credentials', 'custom'));
   ALTER TABLE shoptoken_tokens ADD COLUMN issued_at INTEGER;`,
  // 6: the keeper's scan of client-credentials tokens due for renewal, by (renewal time, shop).
  `CREATE INDEX shoptoken_tokens_due_credentials ON shoptoken_tokens (${CREDENTIALS_RENEWAL_AT}, shop)
     WHERE ${CREDENTIALS_DUE_ROWS};`,
];

/** Version 7: the storage contract's table, indexes, leases and OAuth states. */
const V7 = `CREATE TABLE shoptoken_tokens_v7 (
     app TEXT NOT NULL,
     shop TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('offline', 'online')),
     user_id TEXT NOT NULL,
     access_token TEXT NOT NULL,
     refresh_token TEXT,
     previous_refresh_token TEXT,
     associated_user TEXT,
     scopes TEXT NOT NULL,
     associated_user_scopes TEXT,
     expires_at INTEGER,
     refresh_token_expires_at INTEGER,
     renew_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     installed_at INTEGER,
     status TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth')),
     refresh_failures INTEGER NOT NULL CHECK (refresh_failures >= 0),
     last_refresh_error TEXT,
     migration_started_at INTEGER,
     token_grant TEXT NOT NULL CHECK (token_grant IN ('authorization_code', 'client_credentials', 'custom')),
     issued_at INTEGER,
     PRIMARY KEY (app, shop, kind, user_id),
     CHECK ((kind = 'offline' AND user_id = '') OR (kind = 'online' AND user_id <> ''))
   ) STRICT;
   INSERT INTO shoptoken_tokens_v7 (app, shop, kind, user_id, access_token, refresh_token, previous_refresh_token,
     associated_user, scopes, associated_user_scopes, expires_at, refresh_token_expires_at, renew_at, created_at,
     updated_at, installed_at, status, refresh_failures, last_refresh_error, migration_started_at, token_grant, issued_at)
   SELECT '', shop, kind, user_id, access_token, refresh_token, previous_refresh_token, associated_user, scopes,
     associated_user_scopes, expires_at, refresh_token_expires_at,
     CASE WHEN ${CREDENTIALS_DUE_ROWS.replace("AND status = 'active'", '')} THEN CAST(${CREDENTIALS_RENEWAL_AT} AS INTEGER) END,
     created_at, updated_at, installed_at, status, refresh_failures, last_refresh_error, migration_started_at,
     token_grant, issued_at
   FROM shoptoken_tokens;
   DROP TABLE shoptoken_tokens;
   ALTER TABLE shoptoken_tokens_v7 RENAME TO shoptoken_tokens;
   CREATE INDEX shoptoken_tokens_due_access ON shoptoken_tokens (app, expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';
   CREATE INDEX shoptoken_tokens_due_refresh ON shoptoken_tokens (app, refresh_token_expires_at, shop)
     WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active';
   CREATE INDEX shoptoken_tokens_due_renew ON shoptoken_tokens (app, renew_at, shop)
     WHERE kind = 'offline' AND renew_at IS NOT NULL AND status = 'active';
   CREATE TABLE shoptoken_leases (
     key TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE shoptoken_oauth_states (
     state TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX shoptoken_oauth_states_expires_at ON shoptoken_oauth_states (expires_at);`;

/** Version 8: the install time that settles a late `app/uninstalled`, and the webhook inbox. */
const V8 = `ALTER TABLE shoptoken_tokens ADD COLUMN authorized_at INTEGER;
   CREATE TABLE shoptoken_webhooks (
     app TEXT NOT NULL,
     webhook_id TEXT NOT NULL,
     shop TEXT NOT NULL,
     topic TEXT NOT NULL,
     delivery TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
     attempts INTEGER NOT NULL,
     run_at INTEGER NOT NULL,
     owner TEXT,
     lease_until INTEGER,
     last_error TEXT,
     received_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     keep_until INTEGER NOT NULL,
     PRIMARY KEY (app, webhook_id)
   ) STRICT;
   CREATE INDEX shoptoken_webhooks_due ON shoptoken_webhooks (app, run_at, webhook_id) WHERE state = 'pending';
   CREATE INDEX shoptoken_webhooks_received ON shoptoken_webhooks (app, received_at, webhook_id);
   CREATE INDEX shoptoken_webhooks_shop ON shoptoken_webhooks (app, shop);
   CREATE INDEX shoptoken_webhooks_kept ON shoptoken_webhooks (keep_until) WHERE state <> 'pending';`;

const DESCRIPTIONS = [
  'token table',
  'refresh state of expiring offline tokens',
  "the keeper's due indexes",
  'migration intents',
  'token grant and issue time',
  'client-credentials renewal index',
  'storage contract: rows keyed by app, renew_at, due indexes per app, leases, OAuth states',
  'authorization time of offline tokens; the webhook inbox',
];

/** Every version, in order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [...SHIPPED, V7, V8].map((sql, index) => ({
  version: index + 1,
  description: DESCRIPTIONS[index]!,
  statements: [sql],
}));
