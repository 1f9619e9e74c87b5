/**
 * The PostgreSQL schema's versions and the runner's three primitives on PostgreSQL. Every instance
 * migrates on open, in one transaction that first takes a transaction-scoped advisory lock for the
 * schema (`pg_advisory_xact_lock`, released by COMMIT: nothing survives into the session, so it is
 * safe behind a transaction pooler), then creates the schema if it is missing, reads the applied
 * version and applies the rest. DDL is transactional in PostgreSQL: a failed run leaves nothing.
 * Instances opening a fresh database at once queue on the lock and find the work done.
 *
 * A shipped migration is never edited: a new column is a new version (`ALTER TABLE … ADD COLUMN`).
 * That is why each version spells its columns out rather than deriving them from the codecs —
 * test/storage/postgres.test.ts checks that the migrated token table and `TOKEN_COLUMNS` agree,
 * test/storage/postgres-webhooks.test.ts the webhook table and `WEBHOOK_COLUMNS`.
 */

import { createHash } from 'node:crypto';
import { ShoptokenError } from '../../errors.ts';
import type { Migration, MigrationTarget } from '../migrations.ts';
import { type Db, type Query, quoteIdent, SERVER_NOW_MS } from './connection.ts';

/** The first key of every shoptoken advisory lock (`stkn`); the second is derived from the schema. */
const LOCK_CLASS = 0x73746b6e;

/** The advisory lock of `schema`'s migrations: (class, 32 bits of the schema name's SHA-256). */
export function migrationLock(schema: string): [number, number] {
  return [LOCK_CLASS, createHash('sha256').update(schema).digest().readInt32BE(0)];
}

/** Every version, in order, with its tables named through `table` (schema-qualified). */
export function postgresMigrations(table: (name: string) => string): readonly Migration[] {
  const tokens = table('shoptoken_tokens');
  const leases = table('shoptoken_leases');
  const states = table('shoptoken_oauth_states');
  const webhooks = table('shoptoken_webhooks');
  const readTokens = table('shoptoken_read_tokens');
  return [
    {
      version: 1,
      description: 'token table (bytewise keys), the keeper’s due indexes per app, leases, OAuth states',
      statements: [
        `CREATE TABLE ${tokens} (
           app TEXT COLLATE "C" NOT NULL,
           shop TEXT COLLATE "C" NOT NULL,
           kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('offline', 'online')),
           user_id TEXT COLLATE "C" NOT NULL,
           access_token TEXT NOT NULL,
           refresh_token TEXT,
           previous_refresh_token TEXT,
           associated_user TEXT,
           scopes TEXT NOT NULL,
           associated_user_scopes TEXT,
           expires_at BIGINT,
           refresh_token_expires_at BIGINT,
           renew_at BIGINT,
           created_at BIGINT NOT NULL,
           updated_at BIGINT NOT NULL,
           installed_at BIGINT,
           status TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth')),
           refresh_failures INTEGER NOT NULL CHECK (refresh_failures >= 0),
           last_refresh_error TEXT,
           migration_started_at BIGINT,
           token_grant TEXT NOT NULL CHECK (token_grant IN ('authorization_code', 'client_credentials', 'custom')),
           issued_at BIGINT,
           PRIMARY KEY (app, shop, kind, user_id),
           CHECK ((kind = 'offline' AND user_id = '') OR (kind = 'online' AND user_id <> ''))
         )`,
        `CREATE INDEX shoptoken_tokens_due_access ON ${tokens} (app, expires_at, shop)
           WHERE kind = 'offline' AND status = 'active' AND refresh_token IS NOT NULL`,
        `CREATE INDEX shoptoken_tokens_due_refresh ON ${tokens} (app, refresh_token_expires_at, shop)
           WHERE kind = 'offline' AND status = 'active' AND refresh_token IS NOT NULL`,
        `CREATE INDEX shoptoken_tokens_due_renew ON ${tokens} (app, renew_at, shop)
           WHERE kind = 'offline' AND status = 'active' AND renew_at IS NOT NULL`,
        `CREATE TABLE ${leases} (
           key TEXT COLLATE "C" PRIMARY KEY,
           owner TEXT COLLATE "C" NOT NULL,
           expires_at BIGINT NOT NULL
         )`,
        `CREATE TABLE ${states} (
           state TEXT COLLATE "C" PRIMARY KEY,
           value TEXT NOT NULL,
           expires_at BIGINT NOT NULL
         )`,
        `CREATE INDEX shoptoken_oauth_states_expires_at ON ${states} (expires_at)`,
      ],
    },
    {
      version: 2,
      description: 'authorization time of offline tokens; the webhook inbox',
      statements: [
        `ALTER TABLE ${tokens} ADD COLUMN authorized_at BIGINT`,
        `CREATE TABLE ${webhooks} (
           app TEXT COLLATE "C" NOT NULL,
           webhook_id TEXT COLLATE "C" NOT NULL,
           shop TEXT COLLATE "C" NOT NULL,
           topic TEXT COLLATE "C" NOT NULL,
           delivery TEXT NOT NULL,
           state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
           attempts INTEGER NOT NULL,
           run_at BIGINT NOT NULL,
           owner TEXT COLLATE "C",
           lease_until BIGINT,
           last_error TEXT,
           received_at BIGINT NOT NULL,
           updated_at BIGINT NOT NULL,
           keep_until BIGINT NOT NULL,
           PRIMARY KEY (app, webhook_id)
         )`,
        `CREATE INDEX shoptoken_webhooks_due ON ${webhooks} (app, run_at, webhook_id) WHERE state = 'pending'`,
        `CREATE INDEX shoptoken_webhooks_received ON ${webhooks} (app, received_at, webhook_id)`,
        `CREATE INDEX shoptoken_webhooks_shop ON ${webhooks} (app, shop)`,
        `CREATE INDEX shoptoken_webhooks_kept ON ${webhooks} (keep_until) WHERE state <> 'pending'`,
      ],
    },
    {
      version: 3,
      description: 'batched token reads through a function whose plan each connection keeps',
      statements: [
        // One primary-key lookup per key (the LIMIT 1 subquery is never flattened into a join, so
        // a table without statistics is not scanned across an app). PL/pgSQL keeps the statement's
        // plan for the connection's life and the generic plan is forced: the server plans it once,
        // not on every read, and nothing is named on the client (safe behind PgBouncer).
        `CREATE OR REPLACE FUNCTION ${readTokens}(apps TEXT[], shops TEXT[], kinds TEXT[], users TEXT[])
           RETURNS SETOF ${tokens} LANGUAGE plpgsql STABLE
           SET plan_cache_mode = force_generic_plan AS $body$
         BEGIN
           RETURN QUERY SELECT found.* FROM unnest(apps, shops, kinds, users) AS wanted(app, shop, kind, user_id)
             CROSS JOIN LATERAL (SELECT row.* FROM ${tokens} AS row
               WHERE row.app = wanted.app AND row.shop = wanted.shop AND row.kind = wanted.kind
                 AND row.user_id = wanted.user_id LIMIT 1) AS found;
         END
         $body$`,
      ],
    },
  ];
}

/** Refuses a database whose text is not UTF-8: bytewise order is the order of UTF-8 bytes. */
async function checkEncoding(query: Query): Promise<void> {
  const { rows } = await query(`SELECT current_setting('server_encoding') AS encoding`);
  const encoding = String(rows[0]?.encoding);
  if (encoding !== 'UTF8' && encoding !== 'SQL_ASCII') {
    throw new ShoptokenError(
      'ERR_STORAGE',
      `postgres storage needs a UTF8 database (this one is ${encoding}): create it with ENCODING 'UTF8'`,
    );
  }
}

/** Creates `schema` when it is missing (checked first, so a user without CREATE can open an existing one). */
async function ensureSchema(query: Query, schema: string): Promise<void> {
  const { rowCount } = await query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [schema]);
  if (rowCount === 0) await query(`CREATE SCHEMA ${quoteIdent(schema)}`);
}

/**
 * The runner's view of `db` (its schema): `exclusive` is one transaction holding the schema's
 * advisory lock; `appliedVersion` and `apply` run inside it.
 *
 * @example
 * const report = await runMigrations(migrationTarget(db), postgresMigrations(db.table));
 */
export function migrationTarget(db: Db): MigrationTarget {
  const versions = db.table('shoptoken_schema');
  let current: Query | undefined;
  const query: Query = (text, values) => {
    if (!current) throw new Error('migration statements run inside exclusive()');
    return current(text, values);
  };
  return {
    exclusive(fn) {
      return db.transaction('migrate the schema', async (transaction) => {
        await transaction('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', migrationLock(db.schema));
        current = transaction;
        try {
          await checkEncoding(query);
          await ensureSchema(query, db.schema);
          return await fn();
        } finally {
          current = undefined;
        }
      });
    },
    async appliedVersion() {
      const { rowCount } = await query(
        `SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'shoptoken_schema'`,
        [db.schema],
      );
      if (rowCount === 0) {
        await query(
          `CREATE TABLE ${versions} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
        );
      }
      const latest = await query(`SELECT COALESCE(MAX(version), 0) AS version FROM ${versions}`);
      return Number(latest.rows[0]?.version ?? 0);
    },
    async apply(migration) {
      for (const statement of migration.statements) await query(statement);
      await query(`INSERT INTO ${versions} (version, description, applied_at) VALUES ($1, $2, ${SERVER_NOW_MS})`, [
        migration.version,
        migration.description,
      ]);
    },
  };
}
