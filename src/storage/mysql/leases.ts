/**
 * Leases in a table (`shoptoken_leases`: key, owner, expiry in ms of the database server's clock),
 * so they hold across every process and instance sharing the database:
 * - acquire: one `INSERT … ON DUPLICATE KEY UPDATE` that takes the key when it is free, expired, or
 *   already the owner's, and otherwise leaves the row as it is; concurrent upserts of one key queue
 *   on its row lock, each judging the row as the previous one left it. MySQL reports no row from an
 *   upsert (and its affected-rows count cannot tell "kept another owner's lease" from "inserted"),
 *   so the owner is read back on the same connection: exactly one of many owners reads itself;
 * - extend: an UPDATE conditional on the owner and on the lease not having run out;
 * - release: a DELETE of the owner's row while it has not run out.
 * Expiry is judged on the server's `NOW(3)`, so instances whose clocks are skewed still agree.
 * Expired rows are swept now and then (the first acquire of a storage, then at most once a minute).
 */

import type { LeaseStore } from '../types.ts';
import { type Db, SERVER_NOW_MS } from './connection.ts';

/** How often (ms of this process's monotonic clock) an acquire also sweeps expired leases. */
export const SWEEP_EVERY_MS = 60_000;

/** A lease time in whole milliseconds (rounded up); a TypeError for anything but a finite, non-negative number. */
function ttl(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new TypeError('ttlMs must be a finite, non-negative number of milliseconds');
  }
  return Math.ceil(ttlMs);
}

// Both assignments test the same condition, written so that it holds whether the server evaluates
// them left to right (MySQL, MariaDB by default: `owner` is already the new value in the second)
// or all at once (MariaDB's SIMULTANEOUS_ASSIGNMENT mode).
const TAKES = `expires_at <= ${SERVER_NOW_MS} OR owner = VALUES(owner)`;
const ACQUIRE = `INSERT INTO shoptoken_leases (lease_key, owner, expires_at) VALUES (?, ?, ${SERVER_NOW_MS} + ?)
  ON DUPLICATE KEY UPDATE owner = IF(${TAKES}, VALUES(owner), owner),
    expires_at = IF(${TAKES}, VALUES(expires_at), expires_at)`;
// A locking read: it sees the newest committed row (never an older snapshot), and a proxy that splits
// reads from writes (ProxySQL's default rules) sends it to the primary with the upsert.
const OWNER = 'SELECT owner FROM shoptoken_leases WHERE lease_key = ? FOR UPDATE';
const EXTEND = `UPDATE shoptoken_leases SET expires_at = ${SERVER_NOW_MS} + ?
  WHERE lease_key = ? AND owner = ? AND expires_at > ${SERVER_NOW_MS}`;
const RELEASE = `DELETE FROM shoptoken_leases WHERE lease_key = ? AND owner = ? AND expires_at > ${SERVER_NOW_MS}`;
const SWEEP = `DELETE FROM shoptoken_leases WHERE expires_at <= ${SERVER_NOW_MS} ORDER BY expires_at LIMIT 1000`;

/** A VARBINARY value as text. */
const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

/** The lease store of `db`. */
export function mysqlLeases(db: Db, clock: () => number = () => performance.now()): LeaseStore {
  let lastSweep: number | undefined;
  return {
    async acquire(key, owner, ttlMs) {
      const ms = ttl(ttlMs);
      const at = clock();
      const sweep = lastSweep === undefined || at - lastSweep >= SWEEP_EVERY_MS;
      if (sweep) lastSweep = at;
      return db.session('take a lease', async (session) => {
        await session.affected(ACQUIRE, [key, owner, ms]);
        const [row] = await session.rows(OWNER, [key]);
        // Housekeeping only: a sweep that fails (a lock conflict) is retried a minute later.
        if (sweep) await session.affected(SWEEP).catch(() => undefined);
        return row !== undefined && text(row.owner) === owner;
      });
    },
    async extend(key, owner, ttlMs) {
      return (await db.affected('extend a lease', EXTEND, [ttl(ttlMs), key, owner])) === 1;
    },
    async release(key, owner) {
      return (await db.affected('release a lease', RELEASE, [key, owner])) === 1;
    },
  };
}
