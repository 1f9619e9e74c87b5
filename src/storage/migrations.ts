/**
 * The migration runner every SQL backend reuses: versioned schema changes, applied in order, each
 * once, recorded in a `shoptoken_schema` table, under the backend's exclusive lock so that several
 * instances starting at once apply each version exactly once (SQLite `BEGIN IMMEDIATE`, PostgreSQL
 * an advisory lock, MySQL `GET_LOCK`). A backend supplies the three primitives; the order, the
 * checks and the reporting live here.
 */

import { ShoptokenError } from '../errors.ts';

/** One schema version: the statements that bring the schema from `version - 1` to `version`. */
export interface Migration {
  version: number;
  /** What it does, for `shoptoken db migrate`'s report. */
  description: string;
  statements: readonly string[];
}

/** What a backend provides to the runner. */
export interface MigrationTarget {
  /** Runs `fn` holding the backend's migration lock (other instances wait), and returns its result. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The highest applied version (0 for an empty database); creates the version table when missing. */
  appliedVersion(): Promise<number>;
  /** Applies one migration and records its version, atomically where the database allows. */
  apply(migration: Migration): Promise<void>;
}

/** What a run did. */
export interface MigrationReport {
  /** The version before the run. */
  from: number;
  /** The version after it. */
  to: number;
  /** The migrations applied by this run, in order. */
  applied: { version: number; description: string }[];
}

/** Checks that `migrations` are numbered 1, 2, 3, … with no gap. */
function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new TypeError(`migration ${index + 1} is numbered ${migration.version}: versions must be 1, 2, 3, …`);
    }
  });
}

/**
 * Brings the database to the last version of `migrations`. Idempotent: a second run, in this
 * process or another, applies nothing. A database newer than this code is refused (ERR_STORAGE):
 * an older instance must not write rows it does not understand.
 *
 * @example
 * const report = await runMigrations(target, POSTGRES_MIGRATIONS);
 */
export async function runMigrations(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  checkSequence(migrations);
  const latest = migrations.length;
  return target.exclusive(async () => {
    const from = await target.appliedVersion();
    if (from > latest) {
      throw new ShoptokenError(
        'ERR_STORAGE',
        `the database schema is at version ${from}, newer than this shoptoken knows (${latest}): upgrade shoptoken`,
      );
    }
    const applied: MigrationReport['applied'] = [];
    for (const migration of migrations.slice(from)) {
      await target.apply(migration);
      applied.push({ version: migration.version, description: migration.description });
    }
    return { from, to: latest, applied };
  });
}
