/**
 * OAuth states in a table (`shoptoken_oauth_states`), shared by every instance so a callback may
 * land on any of them. MySQL has no `DELETE … RETURNING`, so `take` is a short transaction: a
 * `SELECT … FOR UPDATE` of the state (concurrent takes queue on its row lock and then find it gone)
 * and the `DELETE` of what it found — single use across instances. The value is returned only when
 * the state has not expired at the caller's `now` (expiry is the flow's clock, never this machine's
 * or the server's). Expired states are swept on that same clock now and then (the first take of a
 * storage, then at most once a minute).
 */

import type { StateStorage } from '../types.ts';
import type { Db } from './connection.ts';

/** How often (ms of this process's monotonic clock) a take also sweeps expired states. */
export const SWEEP_EVERY_MS = 60_000;

const SAVE = `INSERT INTO shoptoken_oauth_states (state, value, expires_at) VALUES (?, ?, ?)
  ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)`;
const FIND = 'SELECT value, expires_at FROM shoptoken_oauth_states WHERE state = ? FOR UPDATE';
const DELETE = 'DELETE FROM shoptoken_oauth_states WHERE state = ?';
const SWEEP = 'DELETE FROM shoptoken_oauth_states WHERE expires_at <= ? ORDER BY expires_at LIMIT 1000';

/** The OAuth-state store of `db`. */
export function mysqlStates(db: Db, clock: () => number = () => performance.now()): StateStorage {
  let lastSweep: number | undefined;
  return {
    async save(state, value, expiresAt) {
      await db.affected('save an OAuth state', SAVE, [state, value, expiresAt]);
    },
    async take(state, now) {
      const row = await db.transaction('take an OAuth state', async (session) => {
        const [found] = await session.rows(FIND, [state]);
        if (found) await session.affected(DELETE, [state]);
        return found;
      });
      const at = clock();
      if (lastSweep === undefined || at - lastSweep >= SWEEP_EVERY_MS) {
        lastSweep = at;
        // Housekeeping only: a sweep that fails (a lock conflict) is retried a minute later.
        await db.affected('sweep OAuth states', SWEEP, [now]).catch(() => undefined);
      }
      if (!row || Number(row.expires_at) <= now) return null;
      return Buffer.isBuffer(row.value) ? row.value.toString('utf8') : String(row.value);
    },
  };
}
