/**
 * The MySQL/MariaDB schema, as versioned migrations for the shared runner, and the runner's lock:
 * `GET_LOCK` on one dedicated connection held for the whole run, so N instances opening a fresh
 * database at once apply each version exactly once.
 *
 * DDL commits by itself in MySQL, so a version is recorded right after its statements, and every
 * statement must be safe to run again (`CREATE TABLE IF NOT EXISTS`, indexes inside the table
 * definition: MySQL has no `CREATE INDEX IF NOT EXISTS`, a column added through `addColumnOnce`)
 * for a process that died in between.
 * A shipped migration is never edited: its SQL is spelled out here, not generated from the row codec,
 * and a test checks the tables' columns against `TOKEN_COLUMNS` and `WEBHOOK_COLUMNS`.
 *
 * Column types keep the contract's bytewise rules: key and ordered columns are `VARBINARY`, sealed
 * values `BLOB` — compared byte for byte. (`utf8mb4_bin` is not enough: it is a PAD SPACE collation
 * on MariaDB and MySQL alike, so `'42'` and `'42 '` would be one key and `'a'` would sort after
 * `'a\t'`.) The keeper's three indexes cover generated columns that hold the row's time only while
 * it is in that index (the rule of `dueTime` in memory.ts) and NULL otherwise, MySQL's form of a
 * partial index: a due scan never reads an online, refused or non-expiring row.
 */

import { ShoptokenError } from '../../errors.ts';
import type { Migration, MigrationTarget } from '../migrations.ts';
import { type Db, SERVER_NOW_MS, type Session } from './connection.ts';

const V1_TOKENS = `CREATE TABLE IF NOT EXISTS shoptoken_tokens (
  app VARBINARY(255) NOT NULL,
  shop VARBINARY(255) NOT NULL,
  kind VARBINARY(16) NOT NULL,
  user_id VARBINARY(64) NOT NULL,
  access_token BLOB NOT NULL,
  refresh_token BLOB NULL,
  previous_refresh_token BLOB NULL,
  associated_user BLOB NULL,
  scopes TEXT NOT NULL,
  associated_user_scopes TEXT NULL,
  expires_at BIGINT NULL,
  refresh_token_expires_at BIGINT NULL,
  renew_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  installed_at BIGINT NULL,
  status VARCHAR(32) NOT NULL,
  refresh_failures BIGINT NOT NULL,
  last_refresh_error TEXT NULL,
  migration_started_at BIGINT NULL,
  token_grant VARCHAR(32) NOT NULL,
  issued_at BIGINT NULL,
  due_access BIGINT GENERATED ALWAYS AS (CASE WHEN kind = 'offline' AND status = 'active'
    AND refresh_token IS NOT NULL THEN expires_at END) STORED,
  due_refresh BIGINT GENERATED ALWAYS AS (CASE WHEN kind = 'offline' AND status = 'active'
    AND refresh_token IS NOT NULL THEN refresh_token_expires_at END) STORED,
  due_renew BIGINT GENERATED ALWAYS AS (CASE WHEN kind = 'offline' AND status = 'active'
    THEN renew_at END) STORED,
  PRIMARY KEY (app, shop, kind, user_id),
  KEY shoptoken_tokens_due_access (app, due_access, shop),
  KEY shoptoken_tokens_due_refresh (app, due_refresh, shop),
  KEY shoptoken_tokens_due_renew (app, due_renew, shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

const V1_LEASES = `CREATE TABLE IF NOT EXISTS shoptoken_leases (
  lease_key VARBINARY(1024) NOT NULL,
  owner VARBINARY(255) NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (lease_key),
  KEY shoptoken_leases_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

const V1_STATES = `CREATE TABLE IF NOT EXISTS shoptoken_oauth_states (
  state VARBINARY(255) NOT NULL,
  value BLOB NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (state),
  KEY shoptoken_oauth_states_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/**
 * `ALTER TABLE … ADD COLUMN` once: MySQL has no `ADD COLUMN IF NOT EXISTS` (MariaDB has), so the
 * statement is chosen from `information_schema` and run prepared — a no-op (`DO 0`) when a process
 * that died before recording its version has added the column already. Leaves nothing in the session.
 */
const addColumnOnce = (table: string, column: string, definition: string): string[] => [
  `SET @shoptoken_ddl = (SELECT IF(COUNT(*) = 0, 'ALTER TABLE ${table} ADD COLUMN ${column} ${definition}', 'DO 0')
    FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${table}' AND column_name = '${column}')`,
  'PREPARE shoptoken_ddl FROM @shoptoken_ddl',
  'EXECUTE shoptoken_ddl',
  'DEALLOCATE PREPARE shoptoken_ddl',
  'SET @shoptoken_ddl = NULL',
];

/**
 * The webhook inbox (storage/webhook-types.ts). Keys and the owner compare bytewise (`VARBINARY`),
 * the sealed delivery is a `LONGBLOB`, `state` an ENUM (strict mode refuses any other value, on
 * every MySQL 8 and MariaDB). Indexes: due records of an app in claim order, an app's listing
 * order, a shop's records (redaction), and what retention may forget.
 */
const V2_WEBHOOKS = `CREATE TABLE IF NOT EXISTS shoptoken_webhooks (
  app VARBINARY(255) NOT NULL,
  webhook_id VARBINARY(255) NOT NULL,
  shop VARBINARY(255) NOT NULL,
  topic VARCHAR(255) NOT NULL,
  delivery LONGBLOB NOT NULL,
  state ENUM('pending', 'done', 'dead') NOT NULL,
  attempts BIGINT NOT NULL,
  run_at BIGINT NOT NULL,
  owner VARBINARY(255) NULL,
  lease_until BIGINT NULL,
  last_error TEXT NULL,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  keep_until BIGINT NOT NULL,
  PRIMARY KEY (app, webhook_id),
  KEY shoptoken_webhooks_due (app, state, run_at, webhook_id),
  KEY shoptoken_webhooks_received (app, received_at, webhook_id),
  KEY shoptoken_webhooks_shop (app, shop),
  KEY shoptoken_webhooks_kept (state, keep_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/** Every version, in order. Append; never edit one that shipped. */
export const MYSQL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "token table with the keeper's due indexes, leases, OAuth states",
    statements: [V1_TOKENS, V1_LEASES, V1_STATES],
  },
  {
    version: 2,
    description: 'authorization time of offline tokens; the webhook inbox',
    // Appended after the generated columns: an instant change on MySQL 8 and MariaDB, however many rows.
    statements: [...addColumnOnce('shoptoken_tokens', 'authorized_at', 'BIGINT NULL'), V2_WEBHOOKS],
  },
];

/** The schema version this code expects. */
export const MYSQL_SCHEMA_VERSION = MYSQL_MIGRATIONS.length;

/** The migration lock's name: per database (lock names are server-wide), at most 64 characters. */
const LOCK_NAME = "LEFT(CONCAT('shoptoken_migrations:', DATABASE()), 64)";

/** How long an instance waits for another's migration run, in seconds. */
const LOCK_TIMEOUT_S = 60;

/**
 * The runner's view of the database: `exclusive` takes the migration lock on one connection and runs
 * every migration statement on that same connection until it releases the lock.
 *
 * @example
 * const report = await runMigrations(migrationTarget(db), MYSQL_MIGRATIONS);
 */
export function migrationTarget(db: Db): MigrationTarget {
  let held: Session | undefined;
  const session = (): Session => {
    if (!held) throw new TypeError('the migration target is used outside exclusive()');
    return held;
  };
  return {
    exclusive(fn) {
      return db.session('migrate the schema', async (connection) => {
        const [row] = await connection.rows(`SELECT GET_LOCK(${LOCK_NAME}, ?) AS locked`, [LOCK_TIMEOUT_S]);
        if (Number(row?.locked) !== 1) {
          throw new ShoptokenError(
            'ERR_STORAGE',
            `mysql storage could not take the migration lock: another instance has held it for ${LOCK_TIMEOUT_S} s`,
            { retryable: true },
          );
        }
        held = connection;
        try {
          return await fn();
        } finally {
          held = undefined;
          // A failure here drops the connection (see Db.session), which frees the lock as well.
          await connection.rows(`SELECT RELEASE_LOCK(${LOCK_NAME}) AS released`);
        }
      });
    },
    async appliedVersion() {
      await session().run(
        `CREATE TABLE IF NOT EXISTS shoptoken_schema (
          version INT NOT NULL PRIMARY KEY,
          description VARCHAR(255) NOT NULL,
          applied_at BIGINT NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      );
      const [row] = await session().rows('SELECT COALESCE(MAX(version), 0) AS version FROM shoptoken_schema');
      return Number(row?.version ?? 0);
    },
    async apply(migration) {
      for (const statement of migration.statements) await session().run(statement);
      await session().affected(
        `INSERT INTO shoptoken_schema (version, description, applied_at) VALUES (?, ?, ${SERVER_NOW_MS})`,
        [migration.version, migration.description],
      );
    },
  };
}
